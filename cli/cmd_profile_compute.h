/* cmd_profile_compute.h — `p3cfg profile --compute`, reached from cmd_profile. */
#ifndef P3CFG_CMD_PROFILE_COMPUTE_H
#define P3CFG_CMD_PROFILE_COMPUTE_H

/* 1 when the arguments of `p3cfg profile` ask for --compute (before any "--"). */
int cli_profile_wants_compute(int argc, char **argv);
/* The command: measure this GPU, fit, write a cluster file. Returns the exit code. */
int cmd_profile_compute(int argc, char **argv);

#endif

"""Stand-in: RerunStateMachine (arguments.py reads a tracker file with it only when
--result-rejected-tracker-filename is given, which the export never writes)."""


class RerunStateMachine:
    @staticmethod
    def get_skipped_iterations_from_tracker_file(filename):
        raise NotImplementedError("stand-in: the rerun state machine is not vendored")

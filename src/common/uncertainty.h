/*
 * uncertainty.h — the one place that turns a point prediction into an 80 % prediction
 * interval (docs/time-model.md, "Prediction intervals").
 *
 * An interval is the point scaled by the 10th and 90th percentiles of the ratio
 * measured / predicted. The ratios are cross-validated: each calibration source (a
 * published table or a measured run) is predicted with the constants fitted on the
 * other sources only (leave one source out), so the spread is that of a prediction for
 * a configuration the model was not fitted on. `build/bench_time_accuracy` prints them;
 * the numbers below are its output and are replaced when the model or the calibration
 * data change.
 */
#ifndef P3CFG_UNCERTAINTY_H
#define P3CFG_UNCERTAINTY_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* Iteration time, GPUs whose efficiency constants were fitted on measurements: the 10th
 * and 90th percentiles of measured / predicted over every out-of-sample prediction of a
 * published dense run on such a GPU: the calibration sources held out one at a time
 * (build/bench_time_accuracy) and the runs no constant was fitted on (bench_cp_accuracy,
 * bench_fp8_ratio's DGX H100 runs); bench/pooled_interval.py pools them (49 runs). */
#define P3CFG__TIME_RATIO_P10 0.909
#define P3CFG__TIME_RATIO_P90 1.060

/* Iteration time, GPUs whose efficiency constants were carried over from another chip
 * or guessed (no measurement of that GPU was fitted): not measured, so a stated
 * allowance rather than a percentile. The calibrated spread about 1 is made this many
 * times wider on each side; replace it by measured percentiles once the GPU has some. */
#define P3CFG__TIME_UNCALIBRATED_WIDENING 3.0

/* Iteration time of a mixture-of-experts plan: the 10th and 90th percentiles of measured /
 * predicted over every published MoE run the benches predict, none of which any constant
 * was fitted on (python3 bench/pooled_interval.py --moe): Megatron-Bridge's runs
 * (Qwen3-30B-A3B, GPT-OSS-120B on H100, B200, GB200, GB300; build/bench_moe_accuracy, 21
 * runs, p10 1.159, p90 2.705), Megatron-Core's Qwen3-235B-A22B runs on 256 H100
 * (build/bench_modelzoo_accuracy, 9 runs, p10 0.868, p90 1.718) and mid-2026 runs with
 * their exact recipes (build/bench_cards_accuracy, 4 runs, 0.946-1.142); pooled, 34 runs.
 * Both above 1: the published MoE runs are mostly slower than predicted, from 3 % to 2x
 * (the Megatron-Bridge runs also lose time to software, older releases up to 3x on the
 * same plan; docs/time-model-moe.md). An MoE plan takes the wider of this and its GPU's
 * interval, so its lower end is the GPU's. */
#define P3CFG__TIME_MOE_RATIO_P10 1.035
#define P3CFG__TIME_MOE_RATIO_P90 2.063

/* Allocator peak memory. The memory model has no fitted constant, so every comparison
 * with a measurement is out of sample; but the measured allocator peaks we hold are three
 * platforms of one configuration (Megatron-LM CI gpt3_7b_tp4_pp1_memory_speed,
 * bench_memory_accuracy: measured / predicted 0.984-1.005), too few for percentiles. The
 * interval is therefore a stated allowance of -5 / +5 %, not a percentile; replace it
 * once more measured configurations are vendored. Bytes do not depend on the GPU's
 * efficiency constants, so there is no uncalibrated variant. */
#define P3CFG__MEM_RATIO_P10 0.95
#define P3CFG__MEM_RATIO_P90 1.05

/* The 80 % interval [*lo_s, *hi_s] of a predicted time `point_s`; `calibrated` is 1 for a
 * GPU fitted on measurements (p3cfg__gpu_calibrated), 0 for the wider allowance. For a
 * positive finite point, *lo_s < point_s < *hi_s; 0 gives [0, 0], and a point that is
 * not finite is returned as both ends. */
void p3cfg__time_range(double point_s, int calibrated, double *lo_s, double *hi_s);

/* The same for a plan of a mixture-of-experts model: the wider of that and the MoE
 * percentiles. */
void p3cfg__time_range_moe(double point_s, int calibrated, double *lo_s, double *hi_s);

/* The 80 % interval [*lo_bytes, *hi_bytes] of a predicted allocator peak, rounded
 * outwards. Saturating: the high end stops at UINT64_MAX, and a saturated point
 * (UINT64_MAX, "beyond any GPU") stays saturated at both ends. */
void p3cfg__memory_range(uint64_t point_bytes, uint64_t *lo_bytes, uint64_t *hi_bytes);

/* 1 when `gpu` is a preset whose efficiency constants were fitted on measurements and
 * still holds the preset's time-model numbers (a cluster file that overrides them has
 * made a GPU of its own, which was not fitted), else 0. */
int p3cfg__gpu_calibrated(const p3cfg_gpu *gpu);

/* Fill the intervals of a finished result entry: time (when it has one), every stage's
 * peak and the memory peak, for a plan of model `m` on cluster `c`. Allocation-free;
 * called where results are assembled, not by the scorer. */
void p3cfg__entry_set_ranges(p3cfg__result_entry *e, const p3cfg_model *m,
                             const p3cfg_cluster *c);

/* An 80 % interval [low, high] around `point` as the tables show it, asymmetric and
 * relative to the point: "-5/+8 %" (whole percent, rounded); "-" when the point is not
 * positive and finite. */
void p3cfg__range_pct(char *buf, size_t n, double point, double low, double high);

#endif

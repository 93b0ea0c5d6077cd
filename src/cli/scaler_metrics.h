#pragma once

#include <chrono>

#include "api/metrics.h"
#include "scaler/scaler.h"

namespace argus::cli {

// How often `serve` and `scaler` take the scaler's and the queue's state into the metrics,
// which trail them by at most that.
inline constexpr std::chrono::milliseconds kMetricsInterval{250};

// The scaler's workers, decisions and crashes as metrics, the same families in `serve` and in
// `scaler`, every kMetricsInterval.
void ExportScalerStatus(const scaler::ScalerStatus& status, api::Metrics& metrics);

}  // namespace argus::cli

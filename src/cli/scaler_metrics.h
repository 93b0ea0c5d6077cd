#pragma once

#include "api/metrics.h"
#include "scaler/scaler.h"

namespace argus::cli {

// The scaler's workers, decisions and crashes as metrics, the same families in `serve` and in
// `scaler`. Called every 250 ms, so the metrics trail the scaler by at most that.
void ExportScalerStatus(const scaler::ScalerStatus& status, api::Metrics& metrics);

}  // namespace argus::cli

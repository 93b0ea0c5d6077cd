#include "cli/scaler_metrics.h"

namespace argus::cli {

void ExportScalerStatus(const scaler::ScalerStatus& status, api::Metrics& metrics) {
  metrics.SetWorkers(status.running, status.desired);
  metrics.SetScalerTotals({.scale_outs = status.scale_outs,
                           .scale_ins = status.scale_ins,
                           .scale_outs_held = status.scale_outs_held,
                           .restarts = status.restarts,
                           .crashes = status.crashes,
                           .stalls = status.stalls});
}

}  // namespace argus::cli

#include "cli/scaler_metrics.h"

namespace argus::cli {

void ExportScalerStatus(const scaler::ScalerStatus& status, api::Metrics& metrics) {
  metrics.SetWorkers(status.running, status.desired);
  metrics.SetScalerTotals(status.scale_outs, status.scale_ins, status.scale_outs_held,
                          status.crashes);
}

}  // namespace argus::cli

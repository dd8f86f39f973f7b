// SnapshotHolder: a ConfigConsumer for a meshproxy without a data plane. It checks each
// candidate as a whole (the per-resource checks already ran in the xDS client) and keeps the
// accepted one for readers such as the admin endpoint. apply() runs on the xDS client's thread;
// current() may be called from any thread.
#pragma once

#include <memory>
#include <mutex>

#include "proxy/xds/xds_snapshot.h"

namespace mesh::proxy {

class SnapshotHolder final : public ConfigConsumer {
 public:
  Result<void> apply(std::shared_ptr<const XdsSnapshot> candidate) override;
  std::shared_ptr<const XdsSnapshot> current() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const XdsSnapshot> current_ = std::make_shared<const XdsSnapshot>();
};

// Whole-snapshot checks any consumer can share: no two listeners that bind a port bind the same
// address, port and protocol (Envoy refuses the second: "has duplicate address").
Result<void> validateSnapshot(const XdsSnapshot& snapshot);

}  // namespace mesh::proxy

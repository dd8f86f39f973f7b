// PeerAuthentication rules, after Istio's ValidatePeerAuthentication: port-level mTLS needs a
// workload selector with labels, and names real ports.
#include <charconv>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

void validatePeerAuthentication(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  const Node* selector = field(spec, "selector");
  const Node* portLevel = field(spec, "portLevelMtls");
  if (portLevel && portLevel->isMapping()) {
    if (!isSet(selector, "matchLabels"))
      ctx.error(portLevel, "spec.portLevelMtls", "portLevelMtls needs a selector with matchLabels: mesh- and namespace-wide policies cannot set it");
    if (portLevel->size() == 0) ctx.error(portLevel, "spec.portLevelMtls", "portLevelMtls, when set, needs at least one port");
    for (const auto& e : portLevel->entries()) {
      std::string_view k = e.key->text();
      int64_t port = 0;
      auto [ptr, ec] = std::from_chars(k.data(), k.data() + k.size(), port);
      if (ec == std::errc() && ptr == k.data() + k.size() && (port < 1 || port > 65535))
        ctx.error(e.key, keyed("spec.portLevelMtls", k), fmt::format("port {} is out of range 1..65535", port));
    }
  }
  checkWorkloadSelector(selector, "matchLabels", "spec.selector", ctx);
}

}  // namespace mesh::core

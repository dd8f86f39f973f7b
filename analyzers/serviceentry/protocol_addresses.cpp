// serviceentry.Analyzer (Istio serviceentry/protocoladdresses.go, ProtocolAddressesAnalyzer):
// a ServiceEntry port with TCP or unset protocol needs addresses (IST0134, once per port),
// unless addresses were allocated (status.addresses) or the mesh captures DNS and
// auto-allocates addresses (proxyMetadata ISTIO_META_DNS_CAPTURE plus
// ISTIO_META_DNS_AUTO_ALLOCATE or PILOT_ENABLE_IP_AUTOALLOCATE, all "true").
#include <strings.h>

#include "analyzers/analyzer.h"

namespace mesh::analysis {
namespace {

bool proxyMetadataTrue(const nlohmann::json& metadata, const char* key) {
  auto it = metadata.find(key);
  return it != metadata.end() && it->is_string() && it->get<std::string>() == "true";
}

bool meshAutoAllocates(const Snapshot& snapshot) {
  const nlohmann::json& mc = snapshot.meshConfig();
  if (!mc.is_object() || !mc.contains("defaultConfig")) return false;
  const nlohmann::json& dc = mc["defaultConfig"];
  if (!dc.is_object() || !dc.contains("proxyMetadata") || !dc["proxyMetadata"].is_object()) return false;
  const nlohmann::json& md = dc["proxyMetadata"];
  return proxyMetadataTrue(md, "ISTIO_META_DNS_CAPTURE") &&
         (proxyMetadataTrue(md, "ISTIO_META_DNS_AUTO_ALLOCATE") || proxyMetadataTrue(md, "PILOT_ENABLE_IP_AUTOALLOCATE"));
}

bool nonEmptyList(const core::Node* n) { return n && n->size() > 0; }

class ProtocolAddressesAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"serviceentry.Analyzer", "Checks the validity of ServiceEntry",
                                    {kinds::ServiceEntry, kinds::MeshConfig}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    if (meshAutoAllocates(snapshot)) return;
    for (const core::Resource* se : snapshot.all(kinds::ServiceEntry)) {
      const core::Node* spec = se->spec();
      if (!spec || nonEmptyList(spec->get("addresses"))) continue;
      const core::Node* status = se->root().get("status");
      if (status && nonEmptyList(status->get("addresses"))) continue;
      const core::Node* ports = spec->get("ports");
      if (!ports) continue;
      for (const core::Node* p : ports->items()) {
        const core::Node* proto = p->get("protocol");
        std::string protocol = proto ? std::string(proto->text()) : std::string();
        if (protocol.empty() || strcasecmp(protocol.c_str(), "TCP") == 0)
          reporter.report(messageType("ServiceEntryAddressesRequired"), *se, {}, p);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeProtocolAddressesAnalyzer() { return std::make_unique<ProtocolAddressesAnalyzer>(); }

}  // namespace mesh::analysis

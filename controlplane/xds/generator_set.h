// GeneratorSet: which generator serves which xDS type for which proxy family (Envoy sidecars
// and gateways, proxyless gRPC), as Istio picks generators by node metadata GENERATOR.
// Built once at start-up by meshd; read-only afterwards.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "controlplane/model/proxy.h"
#include "controlplane/xds/generator.h"

namespace mesh::xds {

class GeneratorSet {
 public:
  // Every generator meshd has: Envoy CDS/EDS/LDS/RDS and the gRPC family.
  static GeneratorSet standard();

  void add(model::GeneratorKind kind, std::unique_ptr<Generator> generator);
  // nullptr when the type is not served for that family.
  const Generator* find(model::GeneratorKind kind, std::string_view typeUrl) const;

 private:
  std::map<std::pair<model::GeneratorKind, std::string>, std::unique_ptr<Generator>, std::less<>> generators_;
};

}  // namespace mesh::xds

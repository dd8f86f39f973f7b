// SimProxy: the xDS client side of one simulated Envoy sidecar, independent of gRPC. It
// subscribes as Envoy does over ADS (CDS wildcard; EDS for the EDS clusters CDS names; LDS
// wildcard once clusters are warm; RDS for the route configs the listeners' HTTP connection
// managers name), ACKs every response, and reports what it accepted. State of the world or
// delta. Owned by its stream; the stream serializes every call.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/xds_load/name_sets.h"
#include "bench/xds_load/wire.h"

namespace mesh::bench {

class SimProxy {
 public:
  // `node` is a serialized envoy.config.core.v3.Node, sent on the stream's first request.
  SimProxy(std::string node, bool delta, NameSets& sets);

  struct Step {
    std::vector<std::string> requests;          // serialized requests to send, in order
    std::vector<XdsType> subscribed;            // types this step subscribed to for the first time
  };
  // The requests that open the stream.
  Step start();

  struct Accepted : Step {
    XdsType type = XdsType::Other;
    uint64_t version = 0;      // the response's version as a number (meshd: the config generation)
    uint64_t lastVersion = 0;  // what this proxy held for the type before
  };
  Accepted onResponse(const Response& response);

  // Every subscribed type has been answered since its subscription last changed.
  bool ready() const;

 private:
  struct TypeState {
    bool subscribed = false;
    bool answered = false;  // a response arrived since the subscription last changed
    NameSetPtr names;       // named subscription (EDS, RDS); null for wildcard types
    std::string version;
    std::string nonce;
    uint64_t versionNumber = 0;
    DependenciesPtr deps;  // CDS → EDS names, LDS → RDS names
  };

  TypeState& state(XdsType t) { return types_[static_cast<size_t>(t)]; }
  const TypeState& state(XdsType t) const { return types_[static_cast<size_t>(t)]; }
  DependenciesPtr applyUpdate(const TypeState& st, const Response& r);
  // A request for `t` carrying its current subscription, and, for an ACK, the response's nonce.
  std::string request(XdsType t, bool ack, const NameSetPtr& previousNames);
  void subscribe(XdsType t, NameSetPtr names, Step& step);

  std::string node_;
  bool delta_;
  NameSets& sets_;
  bool nodeSent_ = false;
  std::array<TypeState, kTypeCount> types_;
};

}  // namespace mesh::bench

#include "bench/xds_load/wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream.h>

namespace mesh::bench {
namespace {

using google::protobuf::io::CodedInputStream;

constexpr std::string_view kTypeUrls[] = {
    "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
    "type.googleapis.com/envoy.config.listener.v3.Listener",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    "",
};
constexpr std::string_view kShortNames[] = {"cds", "eds", "lds", "rds", "other"};
constexpr std::string_view kHcmType =
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr uint64_t kClusterTypeEds = 3;  // envoy.config.cluster.v3.Cluster.DiscoveryType.EDS

constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

int fieldOf(uint32_t tag) { return static_cast<int>(tag >> 3); }
int wireTypeOf(uint32_t tag) { return static_cast<int>(tag & 7); }

bool skipField(CodedInputStream& in, uint32_t tag) {
  switch (wireTypeOf(tag)) {
    case kVarint: {
      uint64_t v;
      return in.ReadVarint64(&v);
    }
    case kFixed64: return in.Skip(8);
    case kLengthDelimited: {
      uint32_t n;
      return in.ReadVarint32(&n) && in.Skip(static_cast<int>(n));
    }
    case kFixed32: return in.Skip(4);
    default: return false;  // groups are not used by xDS
  }
}

bool readString(CodedInputStream& in, std::string& s) {
  uint32_t n;
  return in.ReadVarint32(&n) && in.ReadString(&s, static_cast<int>(n));
}

// Runs `body` inside the length-delimited field at the current position; true when the body
// succeeded and consumed the field exactly.
template <typename F>
bool nested(CodedInputStream& in, F&& body) {
  uint32_t n;
  if (!in.ReadVarint32(&n)) return false;
  auto limit = in.PushLimit(static_cast<int>(n));
  bool ok = body() && in.BytesUntilLimit() == 0;
  in.PopLimit(limit);
  return ok;
}

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h ^ 0xff;  // separator, so ("ab","c") and ("a","bc") differ
}

// Cluster: name = 1, type = 2, eds_cluster_config = 3 { service_name = 2 }.
bool readCluster(CodedInputStream& in, Response& out) {
  std::string name, serviceName;
  uint64_t type = 0;
  while (uint32_t tag = in.ReadTag()) {
    int field = fieldOf(tag);
    bool ok = true;
    if (field == 1 && wireTypeOf(tag) == kLengthDelimited) ok = readString(in, name);
    else if (field == 2 && wireTypeOf(tag) == kVarint) ok = in.ReadVarint64(&type);
    else if (field == 3 && wireTypeOf(tag) == kLengthDelimited)
      ok = nested(in, [&] {
        while (uint32_t t = in.ReadTag()) {
          bool fine = fieldOf(t) == 2 && wireTypeOf(t) == kLengthDelimited ? readString(in, serviceName)
                                                                           : skipField(in, t);
          if (!fine) return false;
        }
        return true;
      });
    else ok = skipField(in, tag);
    if (!ok) return false;
  }
  std::string eds;
  if (type == kClusterTypeEds) eds = serviceName.empty() ? name : serviceName;  // Envoy's rule
  out.clusters.emplace_back(std::move(name), std::move(eds));
  return true;
}

// HttpConnectionManager: rds = 3 { route_config_name = 2 }.
bool readHcm(CodedInputStream& in, std::vector<std::string>& routes) {
  while (uint32_t tag = in.ReadTag()) {
    bool ok = true;
    if (fieldOf(tag) == 3 && wireTypeOf(tag) == kLengthDelimited)
      ok = nested(in, [&] {
        while (uint32_t t = in.ReadTag()) {
          if (fieldOf(t) == 2 && wireTypeOf(t) == kLengthDelimited) {
            std::string name;
            if (!readString(in, name)) return false;
            routes.push_back(std::move(name));
          } else if (!skipField(in, t)) {
            return false;
          }
        }
        return true;
      });
    else ok = skipField(in, tag);
    if (!ok) return false;
  }
  return true;
}

// Filter: name = 1, typed_config = 4 (Any: type_url = 1, value = 2).
bool readFilter(CodedInputStream& in, std::vector<std::string>& routes) {
  while (uint32_t tag = in.ReadTag()) {
    bool ok = true;
    if (fieldOf(tag) == 4 && wireTypeOf(tag) == kLengthDelimited)
      ok = nested(in, [&] {
        std::string type;
        while (uint32_t t = in.ReadTag()) {
          bool fine = true;
          if (fieldOf(t) == 1 && wireTypeOf(t) == kLengthDelimited) fine = readString(in, type);
          else if (fieldOf(t) == 2 && wireTypeOf(t) == kLengthDelimited && type == kHcmType)
            fine = nested(in, [&] { return readHcm(in, routes); });
          else fine = skipField(in, t);
          if (!fine) return false;
        }
        return true;
      });
    else ok = skipField(in, tag);
    if (!ok) return false;
  }
  return true;
}

// FilterChain: filters = 3.
bool readFilterChain(CodedInputStream& in, std::vector<std::string>& routes) {
  while (uint32_t tag = in.ReadTag()) {
    bool ok = fieldOf(tag) == 3 && wireTypeOf(tag) == kLengthDelimited
                  ? nested(in, [&] { return readFilter(in, routes); })
                  : skipField(in, tag);
    if (!ok) return false;
  }
  return true;
}

// Listener: name = 1, filter_chains = 3, default_filter_chain = 25.
bool readListener(CodedInputStream& in, Response& out) {
  std::string name;
  std::vector<std::string> routes;
  while (uint32_t tag = in.ReadTag()) {
    int field = fieldOf(tag);
    bool ok = true;
    if (field == 1 && wireTypeOf(tag) == kLengthDelimited) ok = readString(in, name);
    else if ((field == 3 || field == 25) && wireTypeOf(tag) == kLengthDelimited)
      ok = nested(in, [&] { return readFilterChain(in, routes); });
    else ok = skipField(in, tag);
    if (!ok) return false;
  }
  out.listeners.emplace_back(std::move(name), std::move(routes));
  return true;
}

// google.protobuf.Any: type_url = 1, value = 2. Only clusters and listeners are looked into.
bool readAny(CodedInputStream& in, Response& out) {
  std::string type;
  while (uint32_t tag = in.ReadTag()) {
    bool ok = true;
    if (fieldOf(tag) == 1 && wireTypeOf(tag) == kLengthDelimited) {
      ok = readString(in, type);
    } else if (fieldOf(tag) == 2 && wireTypeOf(tag) == kLengthDelimited) {
      XdsType t = typeOf(type);
      if (t == XdsType::Cluster) ok = nested(in, [&] { return readCluster(in, out); });
      else if (t == XdsType::Listener) ok = nested(in, [&] { return readListener(in, out); });
      else ok = skipField(in, tag);
    } else {
      ok = skipField(in, tag);
    }
    if (!ok) return false;
  }
  return true;
}

// Delta Resource: version = 1, resource = 2 (Any), name = 3.
bool readDeltaResource(CodedInputStream& in, Response& out) {
  std::string name, version;
  while (uint32_t tag = in.ReadTag()) {
    int field = fieldOf(tag);
    bool ok = true;
    if (field == 1 && wireTypeOf(tag) == kLengthDelimited) ok = readString(in, version);
    else if (field == 2 && wireTypeOf(tag) == kLengthDelimited) ok = nested(in, [&] { return readAny(in, out); });
    else if (field == 3 && wireTypeOf(tag) == kLengthDelimited) ok = readString(in, name);
    else ok = skipField(in, tag);
    if (!ok) return false;
  }
  out.fingerprint = fnv1a(fnv1a(out.fingerprint, name), version);
  return true;
}

}  // namespace

XdsType typeOf(std::string_view url) {
  for (int i = 0; i < kTypeCount - 1; ++i)
    if (url == kTypeUrls[i]) return static_cast<XdsType>(i);
  return XdsType::Other;
}

std::string_view typeUrl(XdsType type) { return kTypeUrls[static_cast<int>(type)]; }
std::string_view shortName(XdsType type) { return kShortNames[static_cast<int>(type)]; }

void putVarintField(std::string& out, int field, uint64_t value) {
  auto varint = [&](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  varint(static_cast<uint64_t>(field) << 3 | kVarint);
  varint(value);
}

void putBytesField(std::string& out, int field, std::string_view bytes) {
  auto varint = [&](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  varint(static_cast<uint64_t>(field) << 3 | kLengthDelimited);
  varint(bytes.size());
  out.append(bytes);
}

bool decodeResponse(google::protobuf::io::ZeroCopyInputStream& stream, bool delta, Response& out) {
  CodedInputStream in(&stream);
  in.SetTotalBytesLimit(INT32_MAX);
  out.fingerprint = 14695981039346656037ULL;
  // DiscoveryResponse: version_info = 1, resources = 2, type_url = 4, nonce = 5.
  // DeltaDiscoveryResponse: system_version_info = 1, resources = 2, type_url = 4, nonce = 5,
  // removed_resources = 6.
  while (uint32_t tag = in.ReadTag()) {
    int field = fieldOf(tag);
    bool ok = true;
    if (wireTypeOf(tag) != kLengthDelimited) {
      ok = skipField(in, tag);
    } else if (field == 1) {
      ok = readString(in, out.version);
    } else if (field == 2) {
      ++out.resourceCount;
      ok = delta ? nested(in, [&] { return readDeltaResource(in, out); }) : nested(in, [&] { return readAny(in, out); });
    } else if (field == 4) {
      ok = readString(in, out.typeUrl);
    } else if (field == 5) {
      ok = readString(in, out.nonce);
    } else if (field == 6 && delta) {
      std::string name;
      ok = readString(in, name);
      out.fingerprint = fnv1a(out.fingerprint, "-" + name);
      out.removed.push_back(std::move(name));
    } else {
      ok = skipField(in, tag);
    }
    if (!ok) return false;
  }
  return !out.typeUrl.empty() && !out.nonce.empty();
}

}  // namespace mesh::bench

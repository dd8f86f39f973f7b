#include "proxy/xds/envoy_types.h"

#include "api/envoy_descriptor_set.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/type_resolver_util.h>

namespace mesh::proxy {


namespace gp = google::protobuf;

namespace {

constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com";

// Reads one base-128 varint; false at the end of input or on an over-long varint.
bool readVarint(std::string_view& in, uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    out |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

}  // namespace

// The set is a FileDescriptorSet: field 1 repeated, each a serialized FileDescriptorProto. The
// encoded database indexes those bytes where they lie in the binary, so only files someone
// looks up are ever parsed and built.
struct EnvoyTypes::Impl {
  gp::EncodedDescriptorDatabase database;
  gp::DescriptorPool pool{&database};
  gp::DynamicMessageFactory factory{&pool};
};

EnvoyTypes::EnvoyTypes() : impl_(std::make_unique<Impl>()) {
  std::string_view in = api::envoyDescriptorSet();
  bool ok = true;
  while (ok && !in.empty()) {
    uint64_t tag = 0, size = 0;
    ok = readVarint(in, tag) && tag == ((1 << 3) | 2) && readVarint(in, size) && size <= in.size();
    if (ok) {
      ok = impl_->database.Add(in.data(), static_cast<int>(size));
      in.remove_prefix(size);
    }
  }
  if (!ok) {
    std::fputs("meshproxy: the embedded Envoy descriptor set is corrupt\n", stderr);
    std::abort();  // cannot happen after a successful build
  }
  resolver_.reset(gp::util::NewTypeResolverForDescriptorPool(std::string(kTypeUrlPrefix), &impl_->pool));
}

EnvoyTypes::~EnvoyTypes() = default;

const EnvoyTypes& EnvoyTypes::instance() {
  static const EnvoyTypes types;
  return types;
}

const gp::Descriptor* EnvoyTypes::find(std::string_view typeUrlOrName) const {
  std::string_view name = typeNameOf(typeUrlOrName);
  if (name.empty()) return nullptr;
  return impl_->pool.FindMessageTypeByName(std::string(name));
}

std::unique_ptr<gp::Message> EnvoyTypes::newMessage(std::string_view typeUrlOrName) const {
  const gp::Descriptor* d = find(typeUrlOrName);
  const gp::Message* prototype = d ? impl_->factory.GetPrototype(d) : nullptr;
  return prototype ? std::unique_ptr<gp::Message>(prototype->New()) : nullptr;
}

std::string_view typeNameOf(std::string_view typeUrl) {
  size_t slash = typeUrl.rfind('/');
  return slash == std::string_view::npos ? typeUrl : typeUrl.substr(slash + 1);
}

}  // namespace mesh::proxy

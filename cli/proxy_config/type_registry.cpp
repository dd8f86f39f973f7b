#include "cli/proxy_config/type_registry.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/type.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>
#include <google/protobuf/wrappers.pb.h>

#include "api/envoy_descriptor_set.h"
#include "cli/proxy_config/json_value.h"

namespace mesh::cli::pc {
namespace {

namespace gp = google::protobuf;

// The one field of the stand-in type for unknown Any contents: the original JSON members.
constexpr const char* kUnknownJsonField = "meshctl_unknown_json";
constexpr const char* kUnknownJsonName = "meshctlUnknownJson";

// Resolves through the pool; a type the pool lacks resolves to a stand-in message with one
// string field, so the JSON reader keeps (see stashUnknown) or skips its contents instead of
// failing the whole dump. istioctl is lenient the same way: a newer Envoy or Istio's own
// filters must not stop it.
class LenientResolver : public gp::util::TypeResolver {
 public:
  explicit LenientResolver(const gp::DescriptorPool* pool)
      : inner_(gp::util::NewTypeResolverForDescriptorPool("type.googleapis.com", pool)) {}

  gp::util::Status ResolveMessageType(const std::string& typeUrl, gp::Type* type) override {
    gp::util::Status status = inner_->ResolveMessageType(typeUrl, type);
    if (status.ok()) return status;
    type->Clear();
    type->set_name(std::string(typeNameOf(typeUrl)));
    gp::Field* field = type->add_fields();
    field->set_kind(gp::Field::TYPE_STRING);
    field->set_cardinality(gp::Field::CARDINALITY_OPTIONAL);
    field->set_number(1);
    field->set_name(kUnknownJsonField);
    field->set_json_name(kUnknownJsonName);
    return gp::util::OkStatus();
  }
  gp::util::Status ResolveEnumType(const std::string& typeUrl, gp::Enum* type) override {
    return inner_->ResolveEnumType(typeUrl, type);
  }

 private:
  std::unique_ptr<gp::util::TypeResolver> inner_;
};

}  // namespace

namespace {

// Rewrites every object whose "@type" the pool lacks into {"@type", "meshctlUnknownJson": text}.
bool stashUnknown(JsonValue& v, const gp::DescriptorPool& pool) {
  bool changed = false;
  if (v.kind == JsonValue::Kind::Array) {
    for (auto& item : v.items) changed = stashUnknown(item, pool) || changed;
    return changed;
  }
  if (v.kind != JsonValue::Kind::Object) return false;
  const JsonValue* type = v.find("@type");
  if (type != nullptr && type->kind == JsonValue::Kind::String &&
      pool.FindMessageTypeByName(std::string(typeNameOf(type->text))) == nullptr) {
    JsonValue rest = JsonValue::object();
    for (auto& [key, member] : v.members)
      if (key != "@type") rest.add(key, std::move(member));
    JsonValue replaced = JsonValue::object();
    replaced.add("@type", JsonValue::string(type->text));
    if (!rest.members.empty())
      replaced.add(kUnknownJsonName, JsonValue::string(toIndentedJson(rest, "", GoEscape::ProtoJson)));
    v = std::move(replaced);
    return true;
  }
  for (auto& member : v.members) changed = stashUnknown(member.second, pool) || changed;
  return changed;
}

}  // namespace

std::string_view typeNameOf(std::string_view typeUrl) {
  size_t slash = typeUrl.rfind('/');
  return slash == std::string_view::npos ? typeUrl : typeUrl.substr(slash + 1);
}

struct TypeRegistry::Impl {
  gp::DescriptorPool pool;
  gp::DynamicMessageFactory factory{&pool};
  std::unique_ptr<LenientResolver> resolver;
};

TypeRegistry::TypeRegistry() : impl_(std::make_unique<Impl>()) {
  gp::FileDescriptorSet set;
  std::string_view blob = api::envoyDescriptorSet();
  if (!set.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    fmt::print(stderr, "meshctl: the embedded Envoy descriptor set is corrupt\n");
    std::abort();  // cannot happen after a successful build
  }
  // protoc --include_imports writes dependencies before their dependents.
  for (const auto& file : set.file()) impl_->pool.BuildFile(file);
  impl_->resolver = std::make_unique<LenientResolver>(&impl_->pool);
}

TypeRegistry::~TypeRegistry() = default;

const TypeRegistry& TypeRegistry::instance() {
  static const TypeRegistry registry;
  return registry;
}

const gp::Descriptor* TypeRegistry::findMessage(std::string_view typeUrl) const {
  return impl_->pool.FindMessageTypeByName(std::string(typeNameOf(typeUrl)));
}

std::unique_ptr<gp::Message> TypeRegistry::newMessage(std::string_view typeUrl) const {
  const gp::Descriptor* d = findMessage(typeUrl);
  if (d == nullptr) return nullptr;
  const gp::Message* prototype = impl_->factory.GetPrototype(d);
  return prototype == nullptr ? nullptr : std::unique_ptr<gp::Message>(prototype->New());
}

Result<std::string> TypeRegistry::jsonToBinary(std::string_view typeUrl, std::string_view json) const {
  gp::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  std::string url = std::string(kTypeUrlPrefix) + std::string(typeNameOf(typeUrl));
  // Only dumps that name unknown types pay for the rewrite.
  std::string rewritten;
  if (json.find("\"@type\"") != std::string_view::npos) {
    if (auto doc = parseJson(json); doc && stashUnknown(*doc, impl_->pool)) {
      rewritten = toIndentedJson(*doc, "", GoEscape::ProtoJson);
      json = rewritten;
    }
  }
  std::string binary;
  gp::util::Status status = gp::util::JsonToBinaryString(impl_->resolver.get(), url,
                                                         gp::StringPiece(json.data(), json.size()), &binary, options);
  if (!status.ok()) {
    auto message = status.message();
    return fail(ErrorCode::InvalidInput, std::string(message.data(), message.size()));
  }
  return binary;
}

std::optional<std::string> TypeRegistry::unknownAnyJson(std::string_view typeUrl, const std::string& value) const {
  if (findMessage(typeUrl) != nullptr) return std::nullopt;
  gp::StringValue kept;  // field 1, a string: the stand-in's layout
  if (!kept.ParseFromString(value) || kept.value().empty()) return std::nullopt;
  return kept.value();
}

}  // namespace mesh::cli::pc

#include "controlplane/debug/proxy_config_dump.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/any.pb.h>
#include <google/protobuf/util/time_util.h>

#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "udpa/annotations/sensitive.pb.h"

namespace mesh::debug {
namespace {

namespace admin = envoy::admin::v3;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr std::string_view kRedacted = "[redacted]";

google::protobuf::Timestamp timestampOf(std::chrono::system_clock::time_point t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

void packResource(google::protobuf::Any& any, std::string_view typeUrl, const xds::XdsResource& r) {
  any.set_type_url(std::string(typeUrl));
  any.set_value(*r.body);
}

void redact(Message& message, bool ancestorSensitive);

// Any: redact the message inside when its type is linked into meshd (every type meshd
// generates is); otherwise drop the payload of a sensitive Any rather than leak it.
bool redactAny(Message& message, bool sensitive) {
  auto* any = dynamic_cast<google::protobuf::Any*>(&message);
  if (!any) return false;
  std::string_view type = any->type_url();
  type = type.substr(type.rfind('/') + 1);
  const auto* desc = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(type));
  const Message* prototype = desc ? google::protobuf::MessageFactory::generated_factory()->GetPrototype(desc) : nullptr;
  if (!prototype) {
    if (sensitive) any->clear_value();
    return true;
  }
  std::unique_ptr<Message> inner(prototype->New());
  if (!inner->ParseFromString(any->value())) {
    if (sensitive) any->clear_value();
    return true;
  }
  redact(*inner, sensitive);
  any->set_value(inner->SerializeAsString());
  return true;
}

// Follows Envoy's MessageUtil::redact (source/common/protobuf/utility.cc): recurse through
// messages; inside a sensitive field, strings and bytes become "[redacted]" and other scalars
// are cleared.
void redact(Message& message, bool ancestorSensitive) {
  if (redactAny(message, ancestorSensitive)) return;
  const Reflection* refl = message.GetReflection();
  const auto* desc = message.GetDescriptor();
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* field = desc->field(i);
    bool sensitive = ancestorSensitive || field->options().GetExtension(udpa::annotations::sensitive);
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int j = 0; j < refl->FieldSize(message, field); ++j)
          redact(*refl->MutableRepeatedMessage(&message, field, j), sensitive);
      } else if (refl->HasField(message, field)) {
        redact(*refl->MutableMessage(&message, field), sensitive);
      }
    } else if (sensitive) {
      bool isString = field->cpp_type() == FieldDescriptor::CPPTYPE_STRING;
      if (field->is_repeated()) {
        if (!isString) refl->ClearField(&message, field);
        else
          for (int j = 0; j < refl->FieldSize(message, field); ++j)
            refl->SetRepeatedString(&message, field, j, std::string(kRedacted));
      } else if (refl->HasField(message, field)) {
        if (isString) refl->SetString(&message, field, std::string(kRedacted));
        else refl->ClearField(&message, field);
      }
    }
  }
}

const GeneratedType* find(std::span<const GeneratedType> types, std::string_view typeUrl) {
  auto it = std::ranges::find(types, typeUrl, &GeneratedType::typeUrl);
  return it == types.end() ? nullptr : &*it;
}

}  // namespace

ProxyConfigGenerator::ProxyConfigGenerator(const xds::GeneratorSet& generators, const server::PushContext& push,
                                           const model::Proxy& proxy)
    : generators_(generators), push_(push), proxy_(proxy),
      scope_(push.snapshot ? model::SidecarScope::compute(*push.snapshot, proxy) : model::SidecarScope{}) {}

Result<GeneratedType> ProxyConfigGenerator::generate(
    std::string_view typeUrl, const std::map<std::string, server::TypeSubscription>& subscriptions,
    const std::optional<std::vector<std::string>>& names) const {
  GeneratedType out;
  out.typeUrl = std::string(typeUrl);
  auto sub = subscriptions.find(out.typeUrl);
  out.subscribed = sub != subscriptions.end();
  xds::ResourceNames request;
  if (names) {
    request.wildcard = false;
    request.names = *names;
    std::ranges::sort(request.names);
  } else if (out.subscribed) {
    request.wildcard = sub->second.wildcard;
    request.names = sub->second.names;
  }
  out.wildcard = request.wildcard;
  const xds::Generator* gen = generators_.find(proxy_.generator, typeUrl);
  if (!gen || !push_.snapshot) return out;
  try {
    xds::ProxyView view{*push_.snapshot, proxy_, scope_, push_.cache.get()};
    out.resources = gen->generate(view, request);
  } catch (const std::exception& e) {
    // As on the stream (XdsConnection::generate): a generator exception is a meshd bug.
    return fail(ErrorCode::Internal, fmt::format("generating {} for {} failed: {}", xds::shortTypeName(typeUrl),
                                                 proxy_.id, e.what()));
  }
  // The server filters named subscriptions the same way: generators may return extra names.
  if (!request.wildcard)
    std::erase_if(out.resources, [&](const xds::XdsResource& r) { return !request.contains(r.name); });
  return out;
}

envoy::config::core::v3::Node nodeOf(const model::Proxy& proxy) {
  envoy::config::core::v3::Node node;
  node.set_id(proxy.id);
  node.set_user_agent_name(proxy.userAgent);
  // A oneof: set only when known, or dumps would show an empty user_agent_version.
  if (!proxy.userAgentVersion.empty()) node.set_user_agent_version(proxy.userAgentVersion);
  if (!proxy.locality.empty()) {
    std::string_view loc = proxy.locality;
    auto next = [&loc] {
      auto at = loc.find('/');
      std::string part(loc.substr(0, at));
      loc = at == std::string_view::npos ? std::string_view() : loc.substr(at + 1);
      return part;
    };
    node.mutable_locality()->set_region(next());
    node.mutable_locality()->set_zone(next());
    node.mutable_locality()->set_sub_zone(next());
  }
  auto& fields = *node.mutable_metadata()->mutable_fields();
  auto put = [&fields](const char* key, const std::string& value) {
    if (!value.empty()) fields[key].set_string_value(value);
  };
  put("NAMESPACE", proxy.namespace_);
  put("CLUSTER_ID", proxy.clusterId);
  put("ISTIO_VERSION", proxy.istioVersion);
  put("SERVICE_ACCOUNT", proxy.serviceAccount);
  put("INSTANCE_IPS", fmt::format("{}", fmt::join(proxy.ips, ",")));
  if (proxy.generator == model::GeneratorKind::Grpc) put("GENERATOR", "grpc");
  if (!proxy.labels.empty()) {
    auto& labels = *fields["LABELS"].mutable_struct_value()->mutable_fields();
    for (const auto& [k, v] : proxy.labels) labels[k].set_string_value(v);
  }
  return node;
}

void redactSensitive(google::protobuf::Message& message) { redact(message, false); }

Result<admin::ConfigDump> buildConfigDump(const model::Proxy& proxy, const server::PushContext& push,
                                          std::span<const GeneratedType> types) {
  admin::ConfigDump dump;
  std::string version = std::to_string(push.snapshot ? push.snapshot->version() : 0);
  google::protobuf::Timestamp updated = timestampOf(push.createdAt);

  admin::BootstrapConfigDump bootstrap;
  *bootstrap.mutable_bootstrap()->mutable_node() = nodeOf(proxy);
  *bootstrap.mutable_last_updated() = updated;
  dump.add_configs()->PackFrom(bootstrap);

  if (const GeneratedType* t = find(types, xds::type_url::kCluster)) {
    admin::ClustersConfigDump clusters;
    clusters.set_version_info(version);
    for (const auto& r : t->resources) {
      auto* c = clusters.add_dynamic_active_clusters();
      c->set_version_info(version);
      packResource(*c->mutable_cluster(), t->typeUrl, r);
      *c->mutable_last_updated() = updated;
    }
    dump.add_configs()->PackFrom(clusters);
  }
  if (const GeneratedType* t = find(types, xds::type_url::kEndpoint)) {
    admin::EndpointsConfigDump endpoints;
    for (const auto& r : t->resources) {
      auto* e = endpoints.add_dynamic_endpoint_configs();
      e->set_version_info(version);
      packResource(*e->mutable_endpoint_config(), t->typeUrl, r);
      *e->mutable_last_updated() = updated;
    }
    dump.add_configs()->PackFrom(endpoints);
  }
  if (const GeneratedType* t = find(types, xds::type_url::kListener)) {
    admin::ListenersConfigDump listeners;
    listeners.set_version_info(version);
    for (const auto& r : t->resources) {
      auto* l = listeners.add_dynamic_listeners();
      l->set_name(r.name);
      auto* active = l->mutable_active_state();
      active->set_version_info(version);
      packResource(*active->mutable_listener(), t->typeUrl, r);
      *active->mutable_last_updated() = updated;
    }
    dump.add_configs()->PackFrom(listeners);
  }
  if (const GeneratedType* t = find(types, xds::type_url::kRoute)) {
    admin::RoutesConfigDump routes;
    for (const auto& r : t->resources) {
      auto* rc = routes.add_dynamic_route_configs();
      rc->set_version_info(version);
      packResource(*rc->mutable_route_config(), t->typeUrl, r);
      *rc->mutable_last_updated() = updated;
    }
    dump.add_configs()->PackFrom(routes);
  }
  if (const GeneratedType* t = find(types, xds::type_url::kSecret)) {
    admin::SecretsConfigDump secrets;
    for (const auto& r : t->resources) {
      envoy::extensions::transport_sockets::tls::v3::Secret secret;
      if (!secret.ParseFromString(*r.body))
        return fail(ErrorCode::Internal, fmt::format("secret {:?} generated for {} does not parse", r.name, proxy.id));
      redactSensitive(secret);
      auto* s = secrets.add_dynamic_active_secrets();
      s->set_name(r.name);
      s->set_version_info(version);
      *s->mutable_last_updated() = updated;
      s->mutable_secret()->PackFrom(secret);
    }
    dump.add_configs()->PackFrom(secrets);
  }
  return dump;
}

}  // namespace mesh::debug

#include "install/crd.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace mesh::install {
namespace {

using core::schema::Type;
using core::schema::TypeKind;
using Json = nlohmann::ordered_json;

Json preserveUnknown() { return Json{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}; }

Json intOrString() {
  return Json{{"anyOf", Json::array({Json{{"type", "integer"}}, Json{{"type", "string"}}})},
              {"x-kubernetes-int-or-string", true}};
}

// Istio's CRDs spell a oneof as: none of the fields, or exactly one of them.
Json oneOf(const std::vector<std::string>& fields) {
  Json none = Json::array();
  Json each = Json::array();
  for (const auto& f : fields) {
    none.push_back(Json{{"required", Json::array({f})}});
    each.push_back(Json{{"required", Json::array({f})}});
  }
  Json alternatives = Json::array({Json{{"not", Json{{"anyOf", none}}}}});
  for (auto& e : each) alternatives.push_back(std::move(e));
  return alternatives;
}

class Exporter {
 public:
  Json schema(const Type& t) {
    switch (t.kind) {
      case TypeKind::String:
      case TypeKind::Duration: return Json{{"type", "string"}};
      case TypeKind::Int32: return Json{{"format", "int32"}, {"type", "integer"}};
      case TypeKind::UInt32: return Json{{"maximum", 4294967295LL}, {"minimum", 0}, {"type", "integer"}};
      case TypeKind::Int64: return Json{{"format", "int64"}, {"type", "integer"}};
      case TypeKind::Bool: return Json{{"type", "boolean"}};
      case TypeKind::Double: return Json{{"format", "double"}, {"type", "number"}};
      case TypeKind::Quantity:
      case TypeKind::IntOrString: return intOrString();
      // A free-form value may be a scalar too (google.protobuf.Value): no type at all.
      case TypeKind::Any: return Json{{"x-kubernetes-preserve-unknown-fields", true}};
      case TypeKind::Enum: return Json{{"enum", t.enumValues}, {"type", "string"}};
      case TypeKind::List: return Json{{"items", schema(*t.element)}, {"type", "array"}};
      case TypeKind::Map: return Json{{"additionalProperties", schema(*t.element)}, {"type", "object"}};
      case TypeKind::Object: return object(t);
    }
    return preserveUnknown();
  }

 private:
  Json object(const Type& t) {
    // A type that contains itself cannot be inlined: below the first level it stays open.
    if (std::find(stack_.begin(), stack_.end(), &t) != stack_.end()) return preserveUnknown();
    stack_.push_back(&t);
    Json out = Json::object();
    if (t.oneofs.size() == 1) {
      out["oneOf"] = oneOf(t.oneofs[0]);
    } else if (t.oneofs.size() > 1) {
      Json all = Json::array();
      for (const auto& group : t.oneofs) all.push_back(Json{{"oneOf", oneOf(group)}});
      out["allOf"] = std::move(all);
    }
    Json properties = Json::object();
    std::vector<std::string> names;
    for (const auto& f : t.fields) names.push_back(f.name);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) properties[n] = schema(*t.field(n)->type);
    if (!properties.empty()) out["properties"] = std::move(properties);
    Json required = Json::array();
    for (const auto& n : names)
      if (t.field(n)->required) required.push_back(n);
    if (!required.empty()) out["required"] = std::move(required);
    out["type"] = "object";
    stack_.pop_back();
    return out;
  }

  std::vector<const Type*> stack_;
};

struct PrinterColumn {
  std::string_view kind;
  std::string_view name;
  std::string_view type;
  std::string_view jsonPath;
  std::string_view description;
};

// The columns `kubectl get` shows for Istio's CRDs; Age is added to every kind that has any.
constexpr PrinterColumn kColumns[] = {
    {"VirtualService", "Gateways", "string", ".spec.gateways",
     "The names of gateways and sidecars that should apply these routes"},
    {"VirtualService", "Hosts", "string", ".spec.hosts", "The destination hosts to which traffic is being sent"},
    {"DestinationRule", "Host", "string", ".spec.host", "The name of a service from the service registry"},
    {"ServiceEntry", "Hosts", "string", ".spec.hosts", "The hosts associated with the ServiceEntry"},
    {"ServiceEntry", "Location", "string", ".spec.location",
     "Whether the service is external to the mesh or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL)"},
    {"ServiceEntry", "Resolution", "string", ".spec.resolution",
     "Service resolution mode for the hosts (NONE, STATIC, or DNS)"},
    {"WorkloadEntry", "Address", "string", ".spec.address", "Address associated with the network endpoint"},
    {"PeerAuthentication", "Mode", "string", ".spec.mtls.mode", "Defines the mTLS mode used for peer authentication"},
    {"AuthorizationPolicy", "Action", "string", ".spec.action", "The operation to take"},
};

Json printerColumns(std::string_view kind) {
  Json out = Json::array();
  for (const auto& c : kColumns) {
    if (c.kind != kind) continue;
    out.push_back(Json{{"description", c.description}, {"jsonPath", c.jsonPath}, {"name", c.name}, {"type", c.type}});
  }
  out.push_back(Json{{"description",
                      "CreationTimestamp is a timestamp representing the server time when this "
                      "object was created."},
                     {"jsonPath", ".metadata.creationTimestamp"},
                     {"name", "Age"},
                     {"type", "date"}});
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::vector<const core::KindInfo*> istioKinds() {
  std::vector<const core::KindInfo*> out;
  for (const auto& k : core::allKinds())
    if (k.group.ends_with(".istio.io")) out.push_back(&k);
  return out;
}

nlohmann::ordered_json openApiSchema(const core::schema::Type& type) { return Exporter().schema(type); }

CrdSpec crdSpec(const core::KindInfo& kind) {
  CrdSpec out;
  const core::schema::KindSchema* ks = core::schema::findSchema(kind.group, kind.kind);
  out.hasSchema = ks && ks->spec;
  Json specSchema = out.hasSchema ? openApiSchema(*ks->spec) : preserveUnknown();
  Json schema{
      {"openAPIV3Schema",
       Json{{"properties", Json{{"spec", std::move(specSchema)}, {"status", preserveUnknown()}}}, {"type", "object"}}}};

  // Istio stores v1 where it is served; kinds with one version store that one.
  std::string_view storage = kind.servesVersion("v1") ? "v1" : kind.preferredVersion();
  Json versions = Json::array();
  for (std::string_view v : kind.versions) {
    Json version{{"additionalPrinterColumns", printerColumns(kind.kind)},
                 {"name", std::string(v)},
                 {"schema", schema},
                 {"served", true},
                 {"storage", v == storage},
                 {"subresources", Json{{"status", Json::object()}}}};
    versions.push_back(std::move(version));
  }
  // Oldest last, as the API server lists them: sort by name for a stable order.
  std::sort(versions.begin(), versions.end(),
            [](const Json& a, const Json& b) { return a["name"].get<std::string>() < b["name"].get<std::string>(); });

  std::string group(kind.group);
  std::string category = group;
  std::replace(category.begin(), category.end(), '.', '-');
  Json names{{"categories", Json::array({"istio-io", category})},
             {"kind", std::string(kind.kind)},
             {"listKind", std::string(kind.kind) + "List"},
             {"plural", std::string(kind.plural)}};
  if (!kind.shortNames.empty()) {
    Json shorts = Json::array();
    std::string_view s = kind.shortNames;
    while (!s.empty()) {
      size_t comma = s.find(',');
      shorts.push_back(std::string(s.substr(0, comma)));
      s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    }
    names["shortNames"] = std::move(shorts);
  }
  names["singular"] = lower(kind.kind);
  out.spec = Json{{"group", group},
                  {"names", std::move(names)},
                  {"scope", kind.namespaced ? "Namespaced" : "Cluster"},
                  {"versions", std::move(versions)}};
  return out;
}

}  // namespace mesh::install

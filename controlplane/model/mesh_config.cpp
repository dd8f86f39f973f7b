#include "controlplane/model/mesh_config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <set>

#include <fmt/format.h>

#include "core/diagnostic.h"
#include "core/validation/duration.h"
#include "core/yaml/parser.h"

namespace mesh::model {
namespace {

using core::Node;

// Collects findings against one MeshConfig document, each pinned to its line in the file the
// document came from (a ConfigMap's `mesh` value starts below its key) and its field path.
class Reader {
 public:
  Reader(std::string path, uint32_t firstLine, std::string_view field)
      : path_(std::move(path)), lineShift_(firstLine - 1), prefix_(field) {}

  void error(const Node* at, std::string_view field, std::string message) {
    core::Diagnostic d;
    d.file = path_;
    if (at) {
      d.line = at->mark().line + lineShift_;
      d.column = lineShift_ == 0 ? at->mark().column : 0;  // columns inside an embedded value are not the file's
    }
    d.field = prefix_.empty() ? std::string(field) : field.empty() ? prefix_ : fmt::format("{}: {}", prefix_, field);
    d.message = std::move(message);
    findings_.push_back(std::move(d));
  }
  void add(core::Diagnostic d) {
    if (d.line > 0) d.line += lineShift_;
    if (lineShift_ > 0) d.column = 0;
    if (!prefix_.empty()) d.field = prefix_;
    findings_.push_back(std::move(d));
  }
  bool failed() const { return !findings_.empty(); }
  Error toError() const {
    std::string message = "invalid MeshConfig";
    core::Diagnostics sorted = findings_;
    std::ranges::stable_sort(sorted, {}, [](const core::Diagnostic& d) { return std::pair(d.line, d.column); });
    for (const auto& d : sorted) message += "\n  " + d.format();
    return Error{ErrorCode::InvalidInput, std::move(message), "meshd keeps the last good MeshConfig"};
  }

  // Typed reads of optional fields: nullopt (with a finding when present but wrong) otherwise.
  std::optional<std::string> string(const Node* map, std::string_view key, std::string_view field) {
    const Node* n = map->get(key);
    if (!n || n->isNull()) return std::nullopt;
    if (!n->isScalar()) {
      error(n, field, fmt::format("must be a string, not a {}", n->typeName()));
      return std::nullopt;
    }
    return std::string(n->text());
  }
  std::optional<bool> boolean(const Node* map, std::string_view key, std::string_view field) {
    const Node* n = map->get(key);
    if (!n || n->isNull()) return std::nullopt;
    auto v = n->asBool();
    if (!v) error(n, field, fmt::format("must be true or false, not {:?}", n->text()));
    return v;
  }
  // protobuf's JSON form accepts integers as numbers or as decimal strings ("5005").
  std::optional<int64_t> integer(const Node* map, std::string_view key, std::string_view field) {
    const Node* n = map->get(key);
    if (!n || n->isNull()) return std::nullopt;
    auto v = n->asInt();
    if (!v && n->isScalar()) {
      int64_t parsed = 0;
      std::string_view t = n->text();
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), parsed);
      if (ec == std::errc() && ptr == t.data() + t.size() && !t.empty()) v = parsed;
    }
    if (!v) error(n, field, fmt::format("must be an integer, not {:?}", n->isScalar() ? n->text() : n->typeName()));
    return v;
  }
  std::vector<std::string> strings(const Node* map, std::string_view key, std::string_view field) {
    std::vector<std::string> out;
    const Node* n = map->get(key);
    if (!n || n->isNull()) return out;
    if (!n->isSequence()) {
      error(n, field, fmt::format("must be a list of strings, not a {}", n->typeName()));
      return out;
    }
    for (size_t i = 0; i < n->items().size(); ++i) {
      const Node* item = n->items()[i];
      if (!item->isScalar() || item->isNull()) {
        error(item, fmt::format("{}[{}]", field, i), "must be a string");
        continue;
      }
      out.emplace_back(item->text());
    }
    return out;
  }
  const Node* mapping(const Node* map, std::string_view key, std::string_view field) {
    const Node* n = map->get(key);
    if (!n || n->isNull()) return nullptr;
    if (!n->isMapping()) {
      error(n, field, fmt::format("must be a map, not a {}", n->typeName()));
      return nullptr;
    }
    return n;
  }

 private:
  std::string path_;
  uint32_t lineShift_;
  std::string prefix_;
  core::Diagnostics findings_;
};

// Istio rejects a lone "*" in the header lists: it must be a prefix or suffix match.
void checkHeaderPatterns(Reader& r, const Node* provider, std::string_view key, const std::string& field,
                         const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] == "*" || values[i].empty())
      r.error(provider->get(key)->items()[i], fmt::format("{}.{}[{}]", field, key, i),
              "a single wildcard (\"*\") or an empty name is not supported: use a prefix (\"x-*\") or suffix (\"*-id\") match");
}

std::optional<ExtAuthzProvider> readExtAuthz(Reader& r, const Node* p, bool http, const std::string& field) {
  ExtAuthzProvider out;
  out.http = http;
  out.service = r.string(p, "service", field + ".service").value_or("");
  if (out.service.empty()) r.error(p->get("service") ? p->get("service") : p, field + ".service", "service must not be empty");
  auto port = r.integer(p, "port", field + ".port");
  if (!port || *port < 1 || *port > 65535)
    r.error(p->get("port") ? p->get("port") : p, field + ".port",
            fmt::format("port must be in the range [1, 65535], found: {}", port.value_or(0)));
  else
    out.port = static_cast<uint32_t>(*port);
  if (auto t = r.string(p, "timeout", field + ".timeout")) {
    std::string why;
    out.timeoutNanos = core::validation::parseDuration(*t, &why);
    if (!out.timeoutNanos || *out.timeoutNanos <= 0)
      r.error(p->get("timeout"), field + ".timeout", core::validation::durationError(*t));
  }
  out.failOpen = r.boolean(p, "failOpen", field + ".failOpen").value_or(false);
  if (auto s = r.string(p, "statusOnError", field + ".statusOnError"); s && !s->empty()) {
    uint32_t code = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), code);
    if (ec != std::errc() || ptr != s->data() + s->size() || !isEnvoyStatusCode(code))
      r.error(p->get("statusOnError"), field + ".statusOnError",
              fmt::format("unsupported statusOnError {:?}: use an HTTP status code such as 403 or 503", *s));
    else
      out.statusOnError = code;
  }
  if (const Node* body = r.mapping(p, "includeRequestBodyInCheck", field + ".includeRequestBodyInCheck")) {
    std::string bf = field + ".includeRequestBodyInCheck";
    ExtAuthzProvider::RequestBody b;
    auto max = r.integer(body, "maxRequestBytes", bf + ".maxRequestBytes");
    if (max && (*max < 0 || *max > UINT32_MAX))
      r.error(body->get("maxRequestBytes"), bf + ".maxRequestBytes", "must be between 0 and 4294967295");
    else if (max)
      b.maxRequestBytes = static_cast<uint32_t>(*max);
    b.allowPartialMessage = r.boolean(body, "allowPartialMessage", bf + ".allowPartialMessage").value_or(false);
    b.packAsBytes = r.boolean(body, "packAsBytes", bf + ".packAsBytes").value_or(false);
    out.includeRequestBodyInCheck = b;
  }
  if (!http) return out;
  out.pathPrefix = r.string(p, "pathPrefix", field + ".pathPrefix").value_or("");
  if (!out.pathPrefix.empty() && out.pathPrefix.front() != '/')
    r.error(p->get("pathPrefix"), field + ".pathPrefix",
            fmt::format("pathPrefix must begin with `/`, found: {:?}", out.pathPrefix));
  auto headers = [&](std::string_view key, std::vector<std::string>& into) {
    into = r.strings(p, key, fmt::format("{}.{}", field, key));
    checkHeaderPatterns(r, p, key, field, into);
  };
  headers("includeRequestHeadersInCheck", out.includeRequestHeadersInCheck);
  if (out.includeRequestHeadersInCheck.empty()) headers("includeHeadersInCheck", out.includeRequestHeadersInCheck);
  headers("headersToUpstreamOnAllow", out.headersToUpstreamOnAllow);
  headers("headersToDownstreamOnDeny", out.headersToDownstreamOnDeny);
  headers("headersToDownstreamOnAllow", out.headersToDownstreamOnAllow);
  if (const Node* add = r.mapping(p, "includeAdditionalHeadersInCheck", field + ".includeAdditionalHeadersInCheck")) {
    for (const auto& e : add->entries()) {
      if (!e.value->isScalar()) {
        r.error(e.value, fmt::format("{}.includeAdditionalHeadersInCheck.{}", field, e.key->text()), "must be a string");
        continue;
      }
      out.includeAdditionalHeadersInCheck.emplace_back(e.key->text(), e.value->text());
    }
    std::ranges::sort(out.includeAdditionalHeadersInCheck);  // Istio sorts them for stable config
  }
  return out;
}

void readProviders(Reader& r, const Node* root, MeshConfig& out) {
  const Node* list = root->get("extensionProviders");
  if (!list || list->isNull()) return;
  if (!list->isSequence()) {
    r.error(list, "extensionProviders", fmt::format("must be a list, not a {}", list->typeName()));
    return;
  }
  std::set<std::string, std::less<>> names;
  for (size_t i = 0; i < list->items().size(); ++i) {
    const Node* p = list->items()[i];
    std::string field = fmt::format("extensionProviders[{}]", i);
    if (!p->isMapping()) {
      r.error(p, field, "must be a map");
      continue;
    }
    ExtensionProvider provider;
    provider.name = r.string(p, "name", field + ".name").value_or("");
    if (provider.name.empty())
      r.error(p->get("name") ? p->get("name") : p, field + ".name", "extension provider name must not be empty");
    else if (!names.insert(provider.name).second)
      r.error(p->get("name"), field + ".name",
              fmt::format("extension provider name must be unique, found duplicate: {}", provider.name));
    for (auto [key, http] : {std::pair{"envoyExtAuthzHttp", true}, std::pair{"envoyExtAuthzGrpc", false}})
      if (const Node* ext = r.mapping(p, key, fmt::format("{}.{}", field, key))) {
        if (provider.extAuthz) {
          r.error(ext, fmt::format("{}.{}", field, key), "an extension provider has exactly one kind");
          continue;
        }
        provider.extAuthz = readExtAuthz(r, ext, http, fmt::format("{}.{}", field, key));
      }
    out.extensionProviders.push_back(std::move(provider));
  }
}

void readLocalityLbSetting(Reader& r, const Node* root, MeshConfig& out) {
  const Node* lb = r.mapping(root, "localityLbSetting", "localityLbSetting");
  if (!lb) return;
  r.boolean(lb, "enabled", "localityLbSetting.enabled");
  for (std::string_view key : {"distribute", "failover"})
    if (const Node* n = lb->get(key); n && !n->isNull() && !n->isSequence())
      r.error(n, fmt::format("localityLbSetting.{}", key), fmt::format("must be a list, not a {}", n->typeName()));
  r.strings(lb, "failoverPriority", "localityLbSetting.failoverPriority");
  out.localityLbSetting = lb;
}

}  // namespace

const ExtensionProvider* MeshConfig::provider(std::string_view name) const {
  for (const auto& p : extensionProviders)
    if (p.name == name) return &p;
  return nullptr;
}

std::shared_ptr<const MeshConfig> defaultMeshConfig() {
  static const auto defaults = [] {
    auto c = std::make_shared<MeshConfig>();
    c->source = "defaults";
    return std::shared_ptr<const MeshConfig>(std::move(c));
  }();
  return defaults;
}

Result<std::shared_ptr<const MeshConfig>> parseMeshConfig(std::string path, std::string_view yaml, uint32_t firstLine,
                                                          std::string_view field) {
  Reader r(path, std::max<uint32_t>(firstLine, 1), field);
  core::ParsedFile parsed = core::parseYaml(path, yaml);  // the limits of every YAML meshctl reads
  if (parsed.error) {
    r.add(*parsed.error);
    return Failure(r.toError());
  }
  auto out = std::make_shared<MeshConfig>();
  out->tree = parsed.tree;
  out->source = std::move(path);
  if (parsed.documents.size() > 1) r.error(parsed.documents[1], "", "a MeshConfig is one YAML document");
  if (parsed.documents.empty() || parsed.documents.front()->isNull()) {
    if (r.failed()) return Failure(r.toError());
    return std::shared_ptr<const MeshConfig>(std::move(out));
  }
  const Node* root = parsed.documents.front();
  if (!root->isMapping()) {
    r.error(root, "", fmt::format("a MeshConfig must be a map, not a {}", root->typeName()));
    return Failure(r.toError());
  }
  if (auto ns = r.string(root, "rootNamespace", "rootNamespace"); ns && !ns->empty()) {
    out->rootNamespace = *ns;
    out->rootNamespaceSet = true;
  }
  if (auto td = r.string(root, "trustDomain", "trustDomain"); td && !td->empty()) {
    out->trustDomain = *td;
    out->trustDomainSet = true;
  }
  readProviders(r, root, *out);
  readLocalityLbSetting(r, root, *out);
  if (r.failed()) return Failure(r.toError());
  return std::shared_ptr<const MeshConfig>(std::move(out));
}

Result<std::string> readMeshConfigFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io, fmt::format("{}: cannot open the MeshConfig file", path));
  std::string content;
  char buf[65536];
  size_t n;
  const size_t limit = core::ParseLimits{}.maxFileBytes;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && content.size() <= limit) content.append(buf, n);
  bool readError = std::ferror(f) != 0;
  std::fclose(f);
  if (readError) return fail(ErrorCode::Io, fmt::format("{}: cannot read the MeshConfig file", path));
  if (content.size() > limit)
    return fail(ErrorCode::InvalidInput, fmt::format("{}: the MeshConfig file is over {} bytes", path, limit));
  return content;
}

Result<std::shared_ptr<const MeshConfig>> loadMeshConfigFile(const std::string& path) {
  auto content = readMeshConfigFile(path);
  if (!content) return fail(content.error().code, content.error().message);
  return parseMeshConfig(path, *content);
}

Result<std::shared_ptr<const MeshConfig>> meshConfigFromConfigMap(const core::Resource& configMap) {
  std::string source = fmt::format("{} (ConfigMap {}/{})", configMap.file().empty() ? "<memory>" : configMap.file(),
                                   configMap.namespace_(), configMap.name());
  const Node* data = configMap.root().get("data");
  const Node* mesh = data && data->isMapping() ? data->get("mesh") : nullptr;
  if (!mesh || mesh->isNull()) {
    auto defaults = std::make_shared<MeshConfig>();
    defaults->source = std::move(source);
    return std::shared_ptr<const MeshConfig>(std::move(defaults));
  }
  if (!mesh->isScalar()) {
    Reader r(configMap.file(), 1, "");
    r.error(mesh, "data.mesh", fmt::format("must be a string holding the MeshConfig YAML, not a {}", mesh->typeName()));
    return Failure(r.toError());
  }
  // A block scalar's text starts on the line below its indicator; other styles cannot be mapped.
  bool block = mesh->style() == core::ScalarStyle::Literal || mesh->style() == core::ScalarStyle::Folded;
  auto parsed = parseMeshConfig(configMap.file(), mesh->text(), block ? mesh->mark().line + 1 : 1, "data.mesh");
  if (!parsed) return parsed;
  auto out = std::make_shared<MeshConfig>(**parsed);
  out->source = std::move(source);
  return std::shared_ptr<const MeshConfig>(std::move(out));
}

bool isEnvoyStatusCode(uint32_t code) {
  // envoy/type/v3/http_status.proto's StatusCode values.
  static constexpr uint32_t kCodes[] = {100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302,
                                        303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408,
                                        409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426,
                                        428, 429, 431, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511};
  return std::ranges::find(kCodes, code) != std::end(kCodes);
}

}  // namespace mesh::model

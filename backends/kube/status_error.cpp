#include "backends/kube/status_error.h"

#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "backends/kube/codec.h"

namespace mesh::backends::kube {
namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t q = path.find('?');
  if (q != std::string_view::npos) path = path.substr(0, q);
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One line of at most `max` printable characters: enough to recognise a proxy's error page.
std::string excerpt(std::string_view body, size_t max = 200) {
  std::string out;
  for (char c : body) {
    if (out.size() >= max) {
      out += "…";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (u >= 0x20 && u != 0x7f) {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string quotedList(std::string_view value) { return fmt::format("[\"{}\"]", value); }

std::string target(const RequestInfo& r) {
  if (!r.resourceRequest) return r.path;
  std::string out = r.resourceName();
  if (!r.name.empty()) out += fmt::format(" \"{}\"", r.name);
  if (!r.namespace_.empty()) out += fmt::format(" in namespace \"{}\"", r.namespace_);
  return out;
}

Error forbidden(const ApiStatus& s, const RequestInfo& r) {
  std::string message = s.message;
  if (message.empty())
    message = r.resourceRequest
                  ? fmt::format("forbidden: cannot {} resource \"{}\" in API group \"{}\"{}",
                                r.verb, r.resource, r.group,
                                r.namespace_.empty()
                                    ? std::string(" at the cluster scope")
                                    : fmt::format(" in the namespace \"{}\"", r.namespace_))
                  : fmt::format("forbidden: cannot {} path \"{}\"", r.verb, r.path);
  std::string rule;
  std::string hint;
  if (r.resourceRequest) {
    std::string resource = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
    rule = fmt::format("apiGroups {}, resources {}, verbs {}", quotedList(r.group),
                       quotedList(resource), quotedList(r.verb));
    std::string scope =
        r.namespace_.empty()
            ? std::string("a ClusterRole")
            : fmt::format("a Role in namespace \"{}\" (or a ClusterRole)", r.namespace_);
    hint = fmt::format(
        "grant it with {} bound to this user; check with: kubectl auth can-i {} {}{}", scope,
        r.verb, r.resourceName(), r.namespace_.empty() ? std::string() : " -n " + r.namespace_);
  } else {
    rule = fmt::format("nonResourceURLs {}, verbs {}", quotedList(r.path), quotedList(r.verb));
    hint = "grant it with a ClusterRole bound to this user";
  }
  return Error{ErrorCode::Unavailable,
               fmt::format("{} — the RBAC rule missing is: {}", message, rule), hint};
}

Error conflict(const ApiStatus& s, const RequestInfo& r) {
  if (s.reason == "AlreadyExists")
    return Error{ErrorCode::Conflict,
                 s.message.empty() ? fmt::format("{} already exists", target(r)) : s.message,
                 {}};
  std::vector<const StatusCause*> fields;
  for (const auto& c : s.causes)
    if (c.type == "FieldManagerConflict") fields.push_back(&c);
  if (!fields.empty()) {
    // Server-side apply: each cause's message reads `conflict with "manager" using v1: .spec.x`.
    std::string list;
    for (const auto* c : fields) {
      std::string manager;
      if (size_t q = c->message.find('"'); q != std::string::npos) {
        size_t end = c->message.find('"', q + 1);
        if (end != std::string::npos) manager = c->message.substr(q + 1, end - q - 1);
      }
      list += fmt::format(
          "\n  {}{}", c->field.empty() ? c->message : c->field,
          manager.empty() ? std::string() : fmt::format(" (managed by \"{}\")", manager));
    }
    return Error{
        ErrorCode::Conflict,
        fmt::format("apply conflict on {}: {} field{} managed by another field manager:{}",
                    target(r), fields.size(), fields.size() == 1 ? "" : "s", list),
        "apply with force to take these fields over (--force-conflicts), or leave them out of the "
        "manifest"};
  }
  return Error{ErrorCode::Conflict,
               s.message.empty() ? fmt::format("conflict on {}", target(r)) : s.message,
               "the object changed since it was read: read it again and retry"};
}

Error invalid(const ApiStatus& s, const RequestInfo& r) {
  if (s.causes.empty())
    return Error{ErrorCode::InvalidInput,
                 s.message.empty() ? fmt::format("{} is invalid", target(r)) : s.message,
                 {}};
  std::string head = !s.kind.empty() && !s.name.empty()
                         ? fmt::format("{} \"{}\" is invalid", s.kind, s.name)
                         : fmt::format("{} is invalid", target(r));
  std::string list;
  for (const auto& c : s.causes)
    list += fmt::format("\n  {}{}", c.field.empty() ? std::string() : c.field + ": ", c.message);
  return Error{ErrorCode::InvalidInput, head + ":" + list, {}};
}

Error notFound(const ApiStatus& s, const RequestInfo& r) {
  // No name in the details and the request was about a type: the type itself is missing.
  if (r.resourceRequest && s.name.empty() &&
      (r.name.empty() || s.message == "the server could not find the requested resource"))
    return Error{ErrorCode::NotFound,
                 fmt::format("the API server has no resource \"{}\" in {}{}", r.resource,
                             r.group.empty() ? r.version : r.group + "/" + r.version,
                             r.group.empty() ? std::string()
                                             : " (is its CustomResourceDefinition installed?)"),
                 {}};
  return Error{ErrorCode::NotFound,
               s.message.empty() ? fmt::format("{} not found", target(r)) : s.message,
               {}};
}

Error byCode(int code, const ApiStatus& s, const RequestInfo& r, const ErrorContext& ctx) {
  std::string reason = s.reason.empty() ? std::string() : " " + s.reason;
  std::string detail = s.message.empty() ? std::string() : ": " + s.message;
  switch (code) {
    case 400:
      return Error{ErrorCode::InvalidInput,
                   s.message.empty() ? fmt::format("bad request for {}", target(r)) : s.message,
                   {}};
    case 401: {
      std::string who = ctx.userName.empty()
                            ? std::string("the credentials")
                            : fmt::format("the credentials of user \"{}\"", ctx.userName);
      std::string where = ctx.contextName.empty()
                              ? std::string()
                              : fmt::format(" (context \"{}\")", ctx.contextName);
      return Error{
          ErrorCode::Unavailable,
          fmt::format("unauthorized: the API server at {} rejected {}{}", ctx.server, who, where),
          "refresh the kubeconfig's credentials: a token may have expired; for an exec plugin, log "
          "in "
          "again"};
    }
    case 403:
      return forbidden(s, r);
    case 404:
      return notFound(s, r);
    case 405:
      return Error{ErrorCode::Usage,
                   fmt::format("{} is not allowed on {}{}", r.method, target(r), detail),
                   {}};
    case 409:
      return conflict(s, r);
    case 410:
      return Error{
          ErrorCode::Unavailable,
          fmt::format("the API server no longer has the history asked for (410 Gone){}", detail),
          "list again from the current state"};
    case 413:
      return Error{ErrorCode::InvalidInput,
                   fmt::format("the request for {} is too large{}", target(r), detail),
                   {}};
    case 415:
    case 406:
      return Error{
          ErrorCode::Internal,
          fmt::format("{} {}: the API server refused the content type{}", r.method, r.path, detail),
          {}};
    case 422:
      return invalid(s, r);
    case 429:
      return Error{ErrorCode::Unavailable,
                   fmt::format("the API server is throttling requests (429{}){}", reason, detail),
                   "retry later"};
    default:
      break;
  }
  if (code >= 500)
    return Error{ErrorCode::Unavailable,
                 fmt::format("{} {} failed on the API server ({}{}){}", r.method, r.path, code,
                             reason, detail),
                 code == 503
                     ? "the API server or an aggregated API behind it is unavailable; retry later"
                     : std::string()};
  return Error{ErrorCode::Internal,
               fmt::format("{} {}: unexpected HTTP {}{}{}", r.method, r.path, code, reason, detail),
               {}};
}

}  // namespace

std::string RequestInfo::resourceName() const {
  std::string out = group.empty() ? resource : resource + "." + group;
  if (!subresource.empty()) out += "/" + subresource;
  return out;
}

RequestInfo describeRequest(std::string_view method, std::string_view path, bool watch) {
  RequestInfo r;
  r.method = std::string(method);
  r.path = std::string(path.substr(0, path.find('?')));
  auto parts = splitPath(path);
  size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    r.version = std::string(parts[1]);
    i = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    r.group = std::string(parts[1]);
    r.version = std::string(parts[2]);
    i = 3;
  }
  if (i == 0 || i >= parts.size()) {
    r.verb = lower(method);  // discovery and other non-resource URLs
    return r;
  }
  std::vector<std::string_view> rest(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end());
  if (rest[0] == "namespaces" && rest.size() > 1) {
    r.namespace_ = std::string(rest[1]);
    // "/namespaces/x/status" and "/finalize" are the namespace's own subresources.
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize")
      rest.erase(rest.begin(), rest.begin() + 2);
    else
      r.namespace_.clear();
  }
  r.resourceRequest = true;
  r.resource = std::string(rest[0]);
  if (rest.size() > 1) r.name = std::string(rest[1]);
  if (rest.size() > 2) r.subresource = std::string(rest[2]);
  if (r.resource == "namespaces" && !r.name.empty()) r.namespace_.clear();
  if (method == "GET" || method == "HEAD")
    r.verb = watch ? "watch" : r.name.empty() ? "list" : "get";
  else if (method == "POST")
    r.verb = "create";
  else if (method == "PUT")
    r.verb = "update";
  else if (method == "PATCH")
    r.verb = "patch";
  else if (method == "DELETE")
    r.verb = r.name.empty() ? "deletecollection" : "delete";
  else
    r.verb = lower(method);
  return r;
}

std::optional<ApiStatus> parseStatus(std::string_view body) {
  auto doc = parseJson(body, "status", JsonLimits{.maxDepth = 32});
  if (!doc || !doc->is_object() || stringAt(*doc, "kind") != "Status") return std::nullopt;
  ApiStatus s;
  if (auto c = doc->find("code"); c != doc->end() && c->is_number_integer()) s.code = c->get<int>();
  s.reason = stringAt(*doc, "reason");
  s.message = stringAt(*doc, "message");
  if (auto d = doc->find("details"); d != doc->end() && d->is_object()) {
    s.name = stringAt(*d, "name");
    s.group = stringAt(*d, "group");
    s.kind = stringAt(*d, "kind");
    if (auto causes = d->find("causes"); causes != d->end() && causes->is_array())
      for (const auto& c : *causes)
        s.causes.push_back({stringAt(c, "reason"), stringAt(c, "message"), stringAt(c, "field")});
  }
  return s;
}

Error statusError(int httpStatus, std::string_view body, const RequestInfo& request,
                  const ErrorContext& context) {
  if (auto s = parseStatus(body)) return byCode(httpStatus, *s, request, context);
  ApiStatus s;
  if (!body.empty() && httpStatus != 401) s.message = excerpt(body);
  return byCode(httpStatus, s, request, context);
}

Error statusError(const ApiStatus& status, const RequestInfo& request,
                  const ErrorContext& context) {
  return byCode(status.code > 0 ? status.code : 500, status, request, context);
}

Error connectionError(const ErrorContext& context, std::string_view reason, std::string hint) {
  return Error{ErrorCode::Unavailable, fmt::format("cannot reach {}: {}", context.server, reason),
               std::move(hint)};
}

}  // namespace mesh::backends::kube

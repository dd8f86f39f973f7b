// Route matching and request rewriting as Envoy's router does it.
#include "proxy/dataplane/route_table.h"

#include <charconv>

namespace mesh::proxy::dataplane {

namespace {

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view stripPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {  // [v6]:port
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos || host.find(':') != colon) return host;
  return host.substr(0, colon);
}

const VirtualHost* lookup(const RouteConfig& config, const std::string& host) {
  if (auto it = config.exactDomains.find(host); it != config.exactDomains.end()) {
    return &config.virtualHosts[it->second];
  }
  // Envoy: a wildcard matches at least one character ("*.foo.com" does not match ".foo.com").
  for (const auto& [suffix, index] : config.suffixDomains) {
    if (host.size() > suffix.size() && host.ends_with(suffix)) return &config.virtualHosts[index];
  }
  for (const auto& [prefix, index] : config.prefixDomains) {
    if (host.size() > prefix.size() && host.starts_with(prefix)) return &config.virtualHosts[index];
  }
  return nullptr;
}

bool pathMatches(const RouteMatch& m, std::string_view path) {
  std::string folded;
  if (!m.caseSensitive && m.pathKind != RouteMatch::PathKind::Regex) {
    folded = lowerCopy(path);
    path = folded;
  }
  switch (m.pathKind) {
    case RouteMatch::PathKind::Prefix: return path.starts_with(m.path);
    case RouteMatch::PathKind::Path: return path == m.path;
    case RouteMatch::PathKind::Regex: return m.regex && re2::RE2::FullMatch(path, *m.regex);
    case RouteMatch::PathKind::PathSeparatedPrefix:
      return path.starts_with(m.path) && (path.size() == m.path.size() || path[m.path.size()] == '/');
    case RouteMatch::PathKind::Connect: return false;  // CONNECT requests only: selectRoute
  }
  return false;
}

std::optional<std::string_view> queryValue(std::string_view query, std::string_view name,
                                           bool& present) {
  present = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    present = true;
    return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
  }
  return std::nullopt;
}

bool isUnreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const VirtualHost* selectVirtualHost(const RouteConfig& config, std::string_view authority,
                                     HttpConnectionManagerConfig::StripPort strip) {
  bool ignorePort = strip == HttpConnectionManagerConfig::StripPort::Any || config.ignorePortInHostMatching;
  std::string host = lowerCopy(ignorePort ? stripPort(authority) : authority);
  if (const VirtualHost* vh = lookup(config, host)) return vh;
  if (strip == HttpConnectionManagerConfig::StripPort::Matching && host != stripPort(host)) {
    if (const VirtualHost* vh = lookup(config, std::string(stripPort(host)))) return vh;
  }
  return config.defaultHost ? &config.virtualHosts[*config.defaultHost] : nullptr;
}

bool headerMatches(const HeaderMatcher& m, const HeaderMap& headers) {
  std::optional<std::string> value = headers.getJoined(m.name);
  if (!value && m.treatMissingAsEmpty) value = std::string();
  bool result = false;
  switch (m.kind) {
    case HeaderMatcher::Kind::Present: result = value.has_value() == m.presentMatch; break;
    case HeaderMatcher::Kind::Value: result = value && m.value.matches(*value); break;
    case HeaderMatcher::Kind::Range: {
      int64_t n = 0;
      if (value) {
        auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
        result = ec == std::errc() && ptr == value->data() + value->size() && n >= m.rangeStart &&
                 n < m.rangeEnd;
      }
      break;
    }
  }
  // Envoy: an inverted matcher on an absent header still fails unless it is a presence check.
  if (!value && m.kind != HeaderMatcher::Kind::Present) return false;
  return m.invert ? !result : result;
}

bool headersMatch(const std::vector<HeaderMatcher>& matchers, const HeaderMap& headers) {
  for (const auto& m : matchers) {
    if (!headerMatches(m, headers)) return false;
  }
  return true;
}

const Route* selectRoute(const VirtualHost& host, const RequestHead& request, uint32_t random) {
  std::string_view path = request.pathOnly();
  // As in Envoy, connect_matcher is the only match for CONNECT, and it matches nothing else.
  const bool connect = request.method == "CONNECT";
  for (const Route& route : host.routes) {
    const RouteMatch& m = route.match;
    if ((m.pathKind == RouteMatch::PathKind::Connect) != connect) continue;
    if (!connect && !pathMatches(m, path)) continue;
    if (!headersMatch(m.headers, request.headers)) continue;
    bool queryOk = true;
    for (const auto& q : m.queryParameters) {
      bool present = false;
      auto v = queryValue(request.query(), q.name, present);
      if (!present || (q.value && !q.value->matches(v.value_or("")))) {
        queryOk = false;
        break;
      }
    }
    if (!queryOk) continue;
    if (m.grpcOnly) {
      auto ct = request.headers.get("content-type");
      if (!ct || !ct->starts_with("application/grpc")) continue;
    }
    if (m.runtimeFraction && random >= m.runtimeFraction->perMillion) continue;
    return &route;
  }
  return nullptr;
}

ClusterChoice chooseCluster(const RouteAction& action, const HeaderMap& headers, uint64_t random) {
  ClusterChoice out;
  if (!action.weightedClusters.empty()) {
    uint64_t point = random % action.totalWeight;
    for (const auto& wc : action.weightedClusters) {
      if (point < wc.weight) {
        out.weighted = &wc;
        if (!wc.clusterHeader.empty()) {
          out.name = std::string(headers.get(wc.clusterHeader).value_or(""));
        } else {
          out.name = wc.name;
        }
        return out;
      }
      point -= wc.weight;
    }
    return out;
  }
  if (!action.clusterHeader.empty()) {
    out.name = std::string(headers.get(action.clusterHeader).value_or(""));
    return out;
  }
  out.name = action.cluster;
  return out;
}

std::string rewritePath(const RouteMatch& match, const std::optional<std::string>& prefixRewrite,
                        const re2::RE2* regex, const std::string& substitution,
                        const std::string& path) {
  size_t q = path.find('?');
  std::string pathOnly = path.substr(0, q);
  std::string rest = q == std::string::npos ? std::string() : path.substr(q);
  if (prefixRewrite && (match.pathKind == RouteMatch::PathKind::Prefix ||
                        match.pathKind == RouteMatch::PathKind::PathSeparatedPrefix ||
                        match.pathKind == RouteMatch::PathKind::Path)) {
    size_t n = std::min(match.path.size(), pathOnly.size());
    return *prefixRewrite + pathOnly.substr(n) + rest;
  }
  if (regex != nullptr) {
    std::string out = pathOnly;
    re2::RE2::GlobalReplace(&out, *regex, substitution);
    return out + rest;
  }
  return path;
}

void applyHeaderMutation(HeaderMap& headers, const HeaderMutation& mutation) {
  for (const auto& name : mutation.remove) headers.remove(name);
  for (const auto& h : mutation.add) {
    switch (h.action) {
      case HeaderToAdd::Action::Append: headers.add(h.name, h.value); break;
      case HeaderToAdd::Action::AddIfAbsent:
        if (!headers.has(h.name)) headers.add(h.name, h.value);
        break;
      case HeaderToAdd::Action::OverwriteIfExistsOrAdd: headers.set(h.name, h.value); break;
      case HeaderToAdd::Action::OverwriteIfExists:
        if (headers.has(h.name)) headers.set(h.name, h.value);
        break;
    }
  }
}

std::optional<std::string> normalizePath(std::string_view path, bool normalize, bool mergeSlashes) {
  size_t q = path.find_first_of("?#");
  std::string_view rawPath = path.substr(0, q);
  std::string_view rest = q == std::string_view::npos ? std::string_view() : path.substr(q);
  if (!rest.empty() && rest.front() == '#') rest = {};  // fragments never go upstream
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  if (rawPath.empty() || (rawPath.front() != '/' && rawPath.front() != '\\')) return std::nullopt;
  std::string p;
  if (normalize) {
    std::string decoded;
    for (size_t i = 0; i < rawPath.size(); ++i) {
      char c = rawPath[i];
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
      if (c == '%') {
        if (i + 2 >= rawPath.size()) return std::nullopt;
        int hi = hexValue(rawPath[i + 1]);
        int lo = hexValue(rawPath[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        char v = static_cast<char>(hi * 16 + lo);
        if (isUnreserved(v)) {
          decoded.push_back(v);
        } else {
          const char* digits = "0123456789ABCDEF";
          decoded += {'%', digits[hi], digits[lo]};
        }
        i += 2;
      } else {
        decoded.push_back(c == '\\' ? '/' : c);
      }
    }
    // RFC 3986 5.2.4 remove_dot_segments over "/"-separated segments.
    std::vector<std::string_view> out;
    std::string_view in = decoded;
    size_t pos = 1;
    bool trailing = false;
    while (pos <= in.size()) {
      size_t slash = in.find('/', pos);
      std::string_view seg = in.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
      bool last = slash == std::string_view::npos;
      if (seg == ".") {
        trailing = last;
      } else if (seg == "..") {
        if (!out.empty()) out.pop_back();
        trailing = last;
      } else {
        out.push_back(seg);
        trailing = false;
      }
      if (last) break;
      pos = slash + 1;
    }
    for (auto seg : out) {
      p.push_back('/');
      p.append(seg);
    }
    if (trailing || p.empty()) p.push_back('/');
  } else {
    p = std::string(rawPath);
  }
  if (mergeSlashes) {
    std::string merged;
    for (char c : p) {
      if (c == '/' && !merged.empty() && merged.back() == '/') continue;
      merged.push_back(c);
    }
    p = std::move(merged);
  }
  return p + std::string(rest);
}

std::string redirectLocation(const RedirectAction& r, const RouteMatch& match,
                             const RequestHead& request) {
  std::string scheme = r.scheme.empty() ? request.scheme : r.scheme;
  std::string host = r.host.empty() ? std::string(stripPort(request.authority)) : r.host;
  std::string port;
  if (r.port != 0) {
    port.push_back(':');
    port += std::to_string(r.port);
  } else if (r.host.empty() && r.scheme.empty()) {
    std::string_view a = request.authority;
    std::string_view bare = stripPort(a);
    if (bare.size() < a.size()) port = std::string(a.substr(bare.size()));
  }
  // Envoy drops the default port of the target scheme.
  if ((scheme == "http" && port == ":80") || (scheme == "https" && port == ":443")) port.clear();
  std::string path;
  if (r.path) {
    path = *r.path;
    if (path.find('?') == std::string::npos && !r.stripQuery && !request.query().empty()) {
      path.push_back('?');
      path.append(request.query());
    }
  } else {
    path = rewritePath(match, r.prefixRewrite, r.regexRewrite.get(), r.regexSubstitution, request.path);
    if (r.stripQuery) path = path.substr(0, path.find('?'));
  }
  return scheme + "://" + host + port + path;
}

}  // namespace mesh::proxy::dataplane

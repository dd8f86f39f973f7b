// The data plane's view of an HTTP request or response head: method, path, authority and
// headers with lower-case names (Envoy's convention), independent of any codec so the router,
// filters and tests share it. Owned by one connection on one worker thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mesh::proxy::dataplane {

class HeaderMap {
 public:
  using Entry = std::pair<std::string, std::string>;  // name in lower case

  void add(std::string name, std::string value) { entries_.emplace_back(std::move(name), std::move(value)); }
  // Replaces every value of `name` with one.
  void set(std::string_view name, std::string value);
  void remove(std::string_view name);
  bool has(std::string_view name) const { return get(name).has_value(); }
  std::optional<std::string_view> get(std::string_view name) const;
  // Every value of `name` joined by "," (how Envoy's header matchers see repeated headers).
  std::optional<std::string> getJoined(std::string_view name) const;
  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }

 private:
  std::vector<Entry> entries_;
};

struct RequestHead {
  std::string method;
  std::string path;       // origin-form, query included
  std::string authority;  // Host header, or the authority of an absolute-form target
  std::string scheme = "http";
  unsigned versionMinor = 1;
  HeaderMap headers;      // without Host
  std::string_view pathOnly() const;  // without query and fragment
  std::string_view query() const;     // after '?', without fragment
};

struct ResponseHead {
  unsigned status = 200;
  std::string reason;
  HeaderMap headers;
};

std::string_view reasonPhrase(unsigned status);

}  // namespace mesh::proxy::dataplane

// HeaderMap and RequestHead helpers.
#include "proxy/dataplane/http_message.h"

#include <algorithm>

namespace mesh::proxy::dataplane {

void HeaderMap::set(std::string_view name, std::string value) {
  remove(name);
  entries_.emplace_back(std::string(name), std::move(value));
}

void HeaderMap::remove(std::string_view name) {
  std::erase_if(entries_, [&](const Entry& e) { return e.first == name; });
}

std::optional<std::string_view> HeaderMap::get(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.first == name) return std::string_view(e.second);
  }
  return std::nullopt;
}

std::optional<std::string> HeaderMap::getJoined(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& e : entries_) {
    if (e.first != name) continue;
    if (out) {
      out->push_back(',');
      out->append(e.second);
    } else {
      out = e.second;
    }
  }
  return out;
}

std::string_view RequestHead::pathOnly() const {
  std::string_view p = path;
  return p.substr(0, p.find_first_of("?#"));
}

std::string_view RequestHead::query() const {
  std::string_view p = path;
  size_t q = p.find('?');
  if (q == std::string_view::npos) return {};
  p = p.substr(q + 1);
  return p.substr(0, p.find('#'));
}

std::string_view reasonPhrase(unsigned status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

}  // namespace mesh::proxy::dataplane

#include "backends/kube/watch_decoder.h"

#include <fmt/format.h>

#include "backends/kube/codec.h"

namespace mesh::backends::kube {

std::string_view watchEventTypeName(WatchEventType t) {
  switch (t) {
    case WatchEventType::Added:
      return "ADDED";
    case WatchEventType::Modified:
      return "MODIFIED";
    case WatchEventType::Deleted:
      return "DELETED";
    case WatchEventType::Bookmark:
      return "BOOKMARK";
    case WatchEventType::Error:
      return "ERROR";
  }
  return "?";
}

Result<void> WatchDecoder::decodeLine(std::string_view line,
                                      const std::function<void(WatchEvent&&)>& onEvent) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return {};
  auto doc = parseJson(line, "a watch event");
  if (!doc) return Failure(doc.error());
  std::string type = stringAt(*doc, "type");
  WatchEvent event;
  if (type == "ADDED")
    event.type = WatchEventType::Added;
  else if (type == "MODIFIED")
    event.type = WatchEventType::Modified;
  else if (type == "DELETED")
    event.type = WatchEventType::Deleted;
  else if (type == "BOOKMARK")
    event.type = WatchEventType::Bookmark;
  else if (type == "ERROR")
    event.type = WatchEventType::Error;
  else
    return fail(ErrorCode::InvalidInput,
                fmt::format("a watch event has an unknown type \"{}\"", type));
  auto object = doc->find("object");
  if (object == doc->end() || !object->is_object())
    return fail(ErrorCode::InvalidInput, fmt::format("a {} watch event has no object", type));
  event.object = std::move(*object);
  onEvent(std::move(event));
  return {};
}

Result<void> WatchDecoder::feed(std::string_view bytes,
                                const std::function<void(WatchEvent&&)>& onEvent) {
  if (failed_) return Failure(*failed_);
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view part = bytes.substr(0, nl);
    if (buffer_.size() + part.size() > max_) {
      failed_ = Error{ErrorCode::InvalidInput,
                      fmt::format("a watch event is larger than the limit of {} MiB", max_ >> 20),
                      {}};
      return Failure(*failed_);
    }
    if (nl == std::string_view::npos) {
      buffer_.append(part);
      break;
    }
    Result<void> r;
    if (buffer_.empty()) {
      r = decodeLine(part, onEvent);
    } else {
      buffer_.append(part);
      std::string line = std::move(buffer_);
      buffer_.clear();
      r = decodeLine(line, onEvent);
    }
    if (!r) {
      failed_ = r.error();
      return r;
    }
    bytes.remove_prefix(nl + 1);
  }
  return {};
}

Result<void> WatchDecoder::finish(const std::function<void(WatchEvent&&)>& onEvent) {
  if (failed_) return Failure(*failed_);
  std::string line = std::move(buffer_);
  buffer_.clear();
  return decodeLine(line, onEvent);
}

}  // namespace mesh::backends::kube

#include "core/loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <system_error>
#include <thread>

#include <fmt/format.h>

namespace mesh::core {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kStdinName = "-";

bool isConfigFile(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

// Reads a whole file, refusing one over the limit before reading it.
Result<std::string> readFile(const std::string& path, size_t maxBytes) {
  if (path == kStdinName) {
    std::string content;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(0, buf, sizeof buf)) > 0) {
      content.append(buf, static_cast<size_t>(n));
      if (content.size() > maxBytes)
        return fail(ErrorCode::InvalidInput, fmt::format("input over the limit of {} bytes", maxBytes));
    }
    return content;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::Io, std::strerror(errno));
  std::string content;
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size > 0 && static_cast<size_t>(size) > maxBytes) {
    ::close(fd);
    return fail(ErrorCode::InvalidInput,
                fmt::format("file of {} bytes is over the limit of {} bytes", size, maxBytes));
  }
  ::lseek(fd, 0, SEEK_SET);
  if (size > 0) content.reserve(static_cast<size_t>(size));
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > maxBytes) break;
  }
  int readErrno = errno;
  ::close(fd);
  if (n < 0) return fail(ErrorCode::Io, std::strerror(readErrno));
  return content;
}

Diagnostic at(const std::string& file, const Node& node, std::string field, std::string message) {
  return Diagnostic{Severity::Error, file, node.mark().line, node.mark().column, {}, std::move(field),
                    std::move(message), {}, {}};
}

// A Kubernetes list ("kind: List" or "FooList" with items) stands for its items.
bool isList(const Node& doc) {
  const Node* kind = doc.get("kind");
  const Node* items = doc.get("items");
  return kind && kind->isScalar() && kind->text().ends_with("List") && items && items->isSequence();
}

void addObject(const TreePtr& tree, const Node& doc, const LoadOptions& options, std::string_view field,
               LoadResult& out) {
  const std::string& file = tree->path();
  if (!doc.isMapping()) {
    out.diagnostics.push_back(at(file, doc, std::string(field),
                                 fmt::format("expected a Kubernetes object (a map), found a {}", doc.typeName())));
    return;
  }
  auto requireString = [&](const Node* parent, std::string_view key, std::string path) -> bool {
    const Node* v = parent->get(key);
    if (!v || v->isNull()) {
      out.diagnostics.push_back(at(file, *parent, std::move(path), "required field is missing"));
      return false;
    }
    if (!v->isScalar() || v->text().empty()) {
      out.diagnostics.push_back(at(file, *v, std::move(path), fmt::format("expected a non-empty string, found a {}", v->typeName())));
      return false;
    }
    return true;
  };
  std::string prefix = field.empty() ? "" : std::string(field) + ".";
  bool ok = requireString(&doc, "apiVersion", prefix + "apiVersion");
  ok = requireString(&doc, "kind", prefix + "kind") && ok;
  if (!ok) return;
  if (isList(doc)) {
    const Node* items = doc.get("items");
    for (size_t i = 0; i < items->size(); ++i)
      addObject(tree, *items->items()[i], options, fmt::format("{}items[{}]", prefix, i), out);
    return;
  }
  const Node* meta = doc.get("metadata");
  if (!meta || !meta->isMapping()) {
    out.diagnostics.push_back(at(file, meta ? *meta : doc, prefix + "metadata",
                                 meta ? fmt::format("expected a map, found a {}", meta->typeName())
                                      : std::string("required field is missing")));
    return;
  }
  if (!requireString(meta, "name", prefix + "metadata.name")) return;
  auto [group, version] = splitApiVersion(doc.get("apiVersion")->text());
  (void)version;
  const KindInfo* info = findKind(group, doc.get("kind")->text());
  out.resources.emplace_back(tree, &doc, info, options.defaultNamespace);
}

void collect(ParsedFile&& parsed, const LoadOptions& options, LoadResult& out) {
  TreePtr tree = std::move(parsed.tree);
  for (const Node* doc : parsed.documents) addObject(tree, *doc, options, "", out);
  if (parsed.error) out.diagnostics.push_back(std::move(*parsed.error));
}

}  // namespace

Result<std::vector<std::string>> expandPaths(const std::vector<std::string>& paths, bool recursive) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (p == kStdinName) {
      files.push_back(p);
      continue;
    }
    std::error_code ec;
    auto status = fs::status(p, ec);
    if (ec || !fs::exists(status))
      return fail(ErrorCode::Io, fmt::format("{}: no such file or directory", p));
    if (!fs::is_directory(status)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    auto visit = [&](const fs::directory_entry& e) {
      std::error_code fec;
      if (e.is_regular_file(fec) && isConfigFile(e.path())) found.push_back(e.path().string());
    };
    if (recursive) {
      for (fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
           !ec && it != end; it.increment(ec))
        visit(*it);
    } else {
      for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) visit(*it);
    }
    if (ec) return fail(ErrorCode::Io, fmt::format("{}: {}", p, ec.message()));
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

LoadResult loadBuffer(std::string name, std::string_view content, const LoadOptions& options) {
  LoadResult out;
  out.files = 1;
  ParsedFile parsed = parseYaml(std::move(name), content, options.limits);
  if (parsed.documents.empty() && !parsed.error)
    out.diagnostics.push_back(Diagnostic{Severity::Error, parsed.tree->path(), 1, 1, {}, {},
                                         "no resources in file (it is empty or holds only comments)", {}, {}});
  collect(std::move(parsed), options, out);
  return out;
}

LoadResult loadPaths(const std::vector<std::string>& paths, const LoadOptions& options) {
  LoadResult out;
  auto files = expandPaths(paths, options.recursive);
  if (!files) {
    out.diagnostics.push_back(Diagnostic{Severity::Error, {}, 0, 0, {}, {}, files.error().message, {}, {}});
    return out;
  }
  std::vector<LoadResult> perFile(files->size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < files->size(); i = next++) {
      const std::string& path = (*files)[i];
      auto content = readFile(path, options.limits.maxFileBytes);
      if (!content) {
        perFile[i].diagnostics.push_back(Diagnostic{Severity::Error, path == kStdinName ? "stdin" : path, 0, 0, {},
                                                    {}, content.error().message, {}, {}});
        continue;
      }
      perFile[i] = loadBuffer(path == kStdinName ? "stdin" : path, *content, options);
    }
  };
  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, files->size()));
  bool stdinUsed = std::find(files->begin(), files->end(), std::string(kStdinName)) != files->end();
  if (threads <= 1 || stdinUsed) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
  }
  out.files = files->size();
  for (auto& r : perFile) {
    std::move(r.resources.begin(), r.resources.end(), std::back_inserter(out.resources));
    std::move(r.diagnostics.begin(), r.diagnostics.end(), std::back_inserter(out.diagnostics));
  }
  return out;
}

}  // namespace mesh::core

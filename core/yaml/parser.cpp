#include "core/yaml/parser.h"

#include <yaml.h>

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

namespace mesh::core {
namespace {

Mark toMark(const yaml_mark_t& m) {
  return {static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
}

ScalarStyle toStyle(yaml_scalar_style_t s) {
  switch (s) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: return ScalarStyle::SingleQuoted;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return ScalarStyle::DoubleQuoted;
    case YAML_LITERAL_SCALAR_STYLE: return ScalarStyle::Literal;
    case YAML_FOLDED_SCALAR_STYLE: return ScalarStyle::Folded;
    default: return ScalarStyle::Plain;
  }
}

Mark markAtOffset(std::string_view content, size_t offset) {
  offset = std::min(offset, content.size());
  Mark m{1, 1};
  for (size_t i = 0; i < offset; ++i) {
    if (content[i] == '\n') {
      ++m.line;
      m.column = 1;
    } else if ((static_cast<unsigned char>(content[i]) & 0xC0) != 0x80) {
      ++m.column;
    }
  }
  return m;
}

// Binary files are refused before libyaml sees them: its message for a NUL is obscure.
std::optional<size_t> findNul(std::string_view content) {
  size_t pos = content.find('\0');
  if (pos == std::string_view::npos) return std::nullopt;
  // UTF-16/32 text carries NULs legitimately; libyaml decodes it when it has a BOM.
  if (content.starts_with("\xFF\xFE") || content.starts_with("\xFE\xFF")) return std::nullopt;
  return pos;
}

class Builder {
 public:
  Builder(std::string_view content, const ParseLimits& limits, ParsedFile& out)
      : content_(content), limits_(limits), out_(out), arena_(out.tree->arena()) {}

  void run() {
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(content_.data()),
                                 content_.size());
    bool done = false;
    while (!done && !failed_) {
      yaml_event_t event;
      if (!yaml_parser_parse(&parser, &event)) {
        libyamlError(parser);
        break;
      }
      done = event.type == YAML_STREAM_END_EVENT;
      handle(event);
      yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
  }

 private:
  struct Frame {
    NodeType type;
    Mark mark;
    size_t start;        // index of the first child in pending_
    size_t nodesAtOpen;  // to weigh the anchor: nodes this collection stands for
    std::string anchor;
  };

  void fail(Mark m, std::string message) {
    if (failed_) return;
    failed_ = true;
    out_.error = Diagnostic{Severity::Error, out_.tree->path(), m.line, m.column, {}, {}, std::move(message), {}, {}};
  }

  void libyamlError(const yaml_parser_t& p) {
    std::string problem = p.problem ? p.problem : "unknown YAML error";
    if (p.error == YAML_READER_ERROR) {
      // Reader errors carry a byte offset, not a mark.
      Mark m = markAtOffset(content_, p.problem_offset);
      if (problem.find("UTF-8") != std::string::npos || problem.find("utf-8") != std::string::npos)
        problem = "invalid UTF-8: " + problem;
      fail(m, problem);
      return;
    }
    Mark m = toMark(p.problem_mark);
    size_t offset = p.problem_mark.index;
    if (offset < content_.size() && content_[offset] == '\t')
      problem = "tab character where YAML allows only spaces (indent with spaces)";
    std::string message = problem;
    if (p.context) message += fmt::format(" ({} at line {})", p.context, p.context_mark.line + 1);
    fail(m, message);
  }

  void countNodes(size_t n, Mark m) {
    nodesInDocument_ += n;
    if (nodesInDocument_ > limits_.maxNodesPerDocument)
      fail(m, fmt::format("document expands to more than {} nodes{}; refusing it", limits_.maxNodesPerDocument,
                          aliasesUsed_ ? " through aliases (an alias bomb?)" : ""));
  }

  void add(const Node* node, std::string_view anchor, size_t weight) {
    if (!anchor.empty()) anchors_[std::string(anchor)] = {node, weight};
    pending_.push_back(node);
  }

  static std::string_view anchorOf(const yaml_char_t* a) {
    return a ? std::string_view(reinterpret_cast<const char*>(a)) : std::string_view();
  }

  void open(NodeType type, const yaml_event_t& e, const yaml_char_t* anchor) {
    if (frames_.size() >= limits_.maxDepth) {
      fail(toMark(e.start_mark), fmt::format("nesting deeper than {} levels", limits_.maxDepth));
      return;
    }
    frames_.push_back({type, toMark(e.start_mark), pending_.size(), nodesInDocument_, std::string(anchorOf(anchor))});
    countNodes(1, toMark(e.start_mark));
  }

  void close() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    std::span<const Node* const> children(pending_.data() + f.start, pending_.size() - f.start);
    const Node* node = nullptr;
    if (f.type == NodeType::Sequence) {
      node = NodeFactory::sequence(arena_, children, f.mark);
    } else {
      std::vector<MapEntry>& entries = entries_;  // reused: closes never nest
      entries.clear();
      for (size_t i = 0; i + 1 < children.size(); i += 2) entries.push_back({children[i], children[i + 1]});
      if (!mergeKeys(entries) || !checkDuplicates(entries)) return;
      node = NodeFactory::mapping(arena_, entries, f.mark);
    }
    pending_.resize(f.start);
    add(node, f.anchor, nodesInDocument_ - f.nodesAtOpen);
  }

  // YAML 1.1 merge keys ("<<: *base"), which Kubernetes' decoder honours: explicit keys win,
  // then merged maps in order.
  bool mergeKeys(std::vector<MapEntry>& entries) {
    auto isMerge = [](const MapEntry& e) {
      return e.key->isScalar() && e.key->style() == ScalarStyle::Plain && e.key->text() == "<<";
    };
    if (std::none_of(entries.begin(), entries.end(), isMerge)) return true;
    std::vector<MapEntry> result;
    std::vector<const Node*> sources;
    for (const auto& e : entries) {
      if (!isMerge(e)) {
        result.push_back(e);
        continue;
      }
      if (e.value->isMapping()) {
        sources.push_back(e.value);
      } else if (e.value->isSequence() &&
                 std::all_of(e.value->items().begin(), e.value->items().end(),
                             [](const Node* n) { return n->isMapping(); })) {
        for (const Node* n : e.value->items()) sources.push_back(n);
      } else {
        fail(e.value->mark(), "merge key << needs a map or a list of maps");
        return false;
      }
    }
    for (const Node* src : sources)
      for (const auto& se : src->entries()) {
        bool present = std::any_of(result.begin(), result.end(), [&](const MapEntry& r) {
          return r.key->isScalar() && se.key->isScalar() && r.key->text() == se.key->text();
        });
        if (!present) result.push_back(se);
      }
    entries = std::move(result);
    return true;
  }

  static bool sameKey(const MapEntry& a, const MapEntry& b) {
    return (a.key->isScalar() || a.key->isNull()) && (b.key->isScalar() || b.key->isNull()) &&
           a.key->text() == b.key->text();
  }

  // Kubernetes' strict decoding refuses duplicate fields; so do we, naming both lines.
  bool checkDuplicates(const std::vector<MapEntry>& entries) {
    if (entries.size() < 2) return true;
    if (entries.size() <= 16) {  // small maps, the common case: no allocation
      for (size_t i = 1; i < entries.size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if (sameKey(entries[j], entries[i])) {
            fail(entries[i].key->mark(), fmt::format("duplicate key \"{}\" (first defined at line {})",
                                                     entries[i].key->text(), entries[j].key->mark().line));
            return false;
          }
      return true;
    }
    std::vector<const MapEntry*> sorted;
    sorted.reserve(entries.size());
    for (const auto& e : entries)
      if (e.key->isScalar() || e.key->isNull()) sorted.push_back(&e);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const MapEntry* a, const MapEntry* b) { return a->key->text() < b->key->text(); });
    for (size_t i = 1; i < sorted.size(); ++i) {
      if (sorted[i]->key->text() != sorted[i - 1]->key->text()) continue;
      const Node* first = sorted[i - 1]->key;
      const Node* second = sorted[i]->key;
      if (second->mark().line < first->mark().line) std::swap(first, second);
      fail(second->mark(), fmt::format("duplicate key \"{}\" (first defined at line {})", second->text(),
                                       first->mark().line));
      return false;
    }
    return true;
  }

  void handle(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        anchors_.clear();
        nodesInDocument_ = 0;
        aliasesUsed_ = false;
        break;
      case YAML_DOCUMENT_END_EVENT:
        if (!pending_.empty() && !pending_.back()->isNull()) out_.documents.push_back(pending_.back());
        pending_.clear();
        break;
      case YAML_SCALAR_EVENT: {
        const auto& s = e.data.scalar;
        if (s.length > limits_.maxScalarBytes) {
          fail(toMark(e.start_mark), fmt::format("scalar of {} bytes is over the limit of {} bytes", s.length,
                                                 limits_.maxScalarBytes));
          return;
        }
        countNodes(1, toMark(e.start_mark));
        std::string_view text(reinterpret_cast<const char*>(s.value), s.length);
        add(NodeFactory::scalar(arena_, text, toStyle(s.style), toMark(e.start_mark)), anchorOf(s.anchor), 1);
        break;
      }
      case YAML_SEQUENCE_START_EVENT: open(NodeType::Sequence, e, e.data.sequence_start.anchor); break;
      case YAML_MAPPING_START_EVENT: open(NodeType::Mapping, e, e.data.mapping_start.anchor); break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        if (!frames_.empty()) close();
        break;
      case YAML_ALIAS_EVENT: {
        std::string name(anchorOf(e.data.alias.anchor));
        auto it = anchors_.find(name);
        if (it == anchors_.end()) {
          fail(toMark(e.start_mark), fmt::format("alias *{} refers to no anchor", name));
          return;
        }
        aliasesUsed_ = true;
        countNodes(it->second.weight, toMark(e.start_mark));
        pending_.push_back(it->second.node);
        break;
      }
      default: break;
    }
  }

  struct Anchor {
    const Node* node;
    size_t weight;  // nodes it stands for once expanded
  };

  std::string_view content_;
  const ParseLimits& limits_;
  ParsedFile& out_;
  Arena& arena_;
  std::vector<Frame> frames_;
  std::vector<const Node*> pending_;
  std::vector<MapEntry> entries_;
  std::unordered_map<std::string, Anchor> anchors_;
  size_t nodesInDocument_ = 0;
  bool aliasesUsed_ = false;
  bool failed_ = false;
};

}  // namespace

ParsedFile parseYaml(std::string path, std::string_view content, const ParseLimits& limits) {
  ParsedFile out;
  out.tree = std::make_shared<Tree>(std::move(path));
  auto fileError = [&](Mark m, std::string message) {
    out.error = Diagnostic{Severity::Error, out.tree->path(), m.line, m.column, {}, {}, std::move(message), {}, {}};
    return std::move(out);
  };
  if (content.size() > limits.maxFileBytes)
    return fileError({}, fmt::format("file of {} bytes is over the limit of {} bytes", content.size(),
                                     limits.maxFileBytes));
  if (auto nul = findNul(content))
    return fileError(markAtOffset(content, *nul), "binary data (NUL byte): not a YAML or JSON file");
  Builder(content, limits, out).run();
  return out;
}

}  // namespace mesh::core

#include "analyzers/analyzer.h"

namespace mesh::analysis {

std::string originName(const core::Resource& r) {
  std::string out(r.kind());
  out += ' ';
  if (!r.namespace_().empty()) {
    out += r.namespace_();
    out += '/';
  }
  out += r.name();
  return out;
}

void Reporter::report(const MessageType& type, const core::Resource& origin, std::vector<Arg> args,
                      const core::Node* at) {
  Message m;
  m.type = &type;
  m.args = std::move(args);
  m.origin = originName(origin);
  m.namespace_ = std::string(origin.namespace_());
  m.resource = &origin;
  m.file = origin.file();
  m.line = at && at->mark().line ? at->mark().line : origin.mark().line;
  messages_.push_back(std::move(m));
}

void Reporter::reportAtLine(const MessageType& type, const core::Resource& origin, std::vector<Arg> args,
                            uint32_t line) {
  report(type, origin, std::move(args));
  if (line) messages_.back().line = line;
}

void Reporter::reportGlobal(const MessageType& type, std::vector<Arg> args) {
  Message m;
  m.type = &type;
  m.args = std::move(args);
  messages_.push_back(std::move(m));
}

}  // namespace mesh::analysis

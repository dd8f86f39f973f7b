// docs/analysis-messages.md must document exactly the codes of the message catalogue: meshctl
// prints links to docs/analysis-messages.md#istNNNN, so every code needs its anchor and section.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "analyzers/message_types.h"

using namespace mesh::analysis;

namespace {

const char* const kPagePath = MESH_SOURCE_DIR "/docs/analysis-messages.md";

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string anchorLine(std::string_view code) { return "<a id=\"" + lower(code) + "\"></a>"; }
std::string headingLine(const MessageType& t) { return "## " + std::string(t.code) + " " + std::string(t.name); }

// "IST" followed by four digits at the start of `s`.
bool startsWithCode(std::string_view s) {
  if (s.size() < 7 || (s.substr(0, 3) != "IST" && s.substr(0, 3) != "ist")) return false;
  return std::all_of(s.begin() + 3, s.begin() + 7, [](unsigned char c) { return std::isdigit(c) != 0; });
}

struct Page {
  std::vector<std::string> lines;
  std::map<std::string, size_t> headingAt;  // "IST0101" -> line index of its "## " heading
  std::vector<std::string> headingCodes;    // in page order
  std::vector<std::string> anchorCodes;     // upper-cased codes of <a id="istNNNN"> lines
};

Page loadPage() {
  Page page;
  page.lines = readLines(kPagePath);
  for (size_t i = 0; i < page.lines.size(); ++i) {
    std::string_view line = page.lines[i];
    if (line.starts_with("## ") && startsWithCode(line.substr(3))) {
      std::string code(line.substr(3, 7));
      page.headingAt.emplace(code, i);
      page.headingCodes.push_back(code);
    }
    constexpr std::string_view kAnchor = "<a id=\"";
    for (size_t at = line.find(kAnchor); at != std::string_view::npos; at = line.find(kAnchor, at + 1)) {
      std::string_view id = line.substr(at + kAnchor.size());
      if (startsWithCode(id)) {
        std::string code(id.substr(0, 7));
        std::transform(code.begin(), code.end(), code.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        page.anchorCodes.push_back(code);
      }
    }
  }
  return page;
}

// The lines of a code's section: from its heading to the next "## " heading.
std::string sectionText(const Page& page, size_t heading) {
  std::string text;
  for (size_t i = heading + 1; i < page.lines.size() && !page.lines[i].starts_with("## "); ++i) text += page.lines[i] + "\n";
  return text;
}

}  // namespace

TEST_CASE("docs/analysis-messages.md has an anchor and a section for every catalogue code") {
  Page page = loadPage();
  REQUIRE_MESSAGE(!page.lines.empty(), "cannot read " << kPagePath);

  for (const MessageType& t : allMessageTypes()) {
    CAPTURE(t.code);
    auto it = page.headingAt.find(std::string(t.code));
    REQUIRE_MESSAGE(it != page.headingAt.end(), "missing heading: " << headingLine(t));
    size_t at = it->second;
    CHECK(page.lines[at] == headingLine(t));
    // The explicit anchor sits on the line right before the heading, so #istNNNN lands on it.
    REQUIRE(at > 0);
    CHECK(page.lines[at - 1] == anchorLine(t.code));
    CHECK(std::count(page.anchorCodes.begin(), page.anchorCodes.end(), std::string(t.code)) == 1);

    // The section states the catalogue's level and message template.
    std::string section = sectionText(page, at);
    CHECK_MESSAGE(section.find("**Level:** " + std::string(levelName(t.level)) + "\n") != std::string::npos,
                  "level of " << t.code << " should be " << levelName(t.level));
    CHECK_MESSAGE(section.find(std::string(t.format)) != std::string::npos, "template of " << t.code << " is out of date");
    CHECK_MESSAGE(section.find("**Fix:**") != std::string::npos, t.code << " has no Fix paragraph");
  }
}

TEST_CASE("docs/analysis-messages.md documents no code outside the catalogue, once each, in code order") {
  Page page = loadPage();
  REQUIRE(!page.lines.empty());

  auto inCatalogue = [](const std::string& code) {
    const MessageType* t = findMessageType(code);
    return t != nullptr && t->code == code;
  };
  for (const std::string& code : page.headingCodes)
    CHECK_MESSAGE(inCatalogue(code), code << " is documented but not in analyzers/message_types.cpp");
  for (const std::string& code : page.anchorCodes)
    CHECK_MESSAGE(inCatalogue(code), "anchor for " << code << ", which is not in analyzers/message_types.cpp");

  std::vector<std::string> expected;
  for (const MessageType& t : allMessageTypes()) expected.emplace_back(t.code);
  CHECK(page.headingCodes == expected);
  CHECK(page.anchorCodes.size() == expected.size());
}

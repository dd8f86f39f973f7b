#include "cli/console.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace mesh::cli {
namespace {

constexpr std::string_view kFrames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};

std::string trimUpper(std::string s) {
  auto notSpace = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
  s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

bool isTerminal(std::FILE* stream) { return ::isatty(::fileno(stream)) == 1; }

Answer confirm(std::string_view prompt, std::FILE* in, std::FILE* out) {
  for (;;) {
    fmt::print(out, "{} ", prompt);
    std::fflush(out);
    std::string line;
    int c;
    while ((c = std::fgetc(in)) != EOF && c != '\n') {
      if (line.size() < 256) line += static_cast<char>(c);
    }
    if (c == EOF && line.empty()) {
      fmt::print(out, "\n");
      return Answer::NoInput;
    }
    std::string answer = trimUpper(line);
    if (answer == "Y" || answer == "YES") return Answer::Yes;
    if (answer == "N" || answer == "NO") return Answer::No;
    if (c == EOF) return Answer::NoInput;
  }
}

bool confirmOrCancel(std::string_view prompt, std::string_view verb) {
  Answer answer = confirm(prompt, stdin, stdout);
  if (answer == Answer::Yes) return true;
  fmt::print("Cancelled.\n");
  if (answer == Answer::NoInput && !isTerminal(stdin))
    fmt::print(stderr, "hint: stdin gave no answer; pass -y to {} without asking\n", verb);
  return false;
}

StatusPrinter::StatusPrinter(std::FILE* out) : out_(out), tty_(isTerminal(out)) {}

StatusPrinter::~StatusPrinter() { clearSpinner(); }

void StatusPrinter::spin(std::string_view text) {
  if (!tty_) return;
  auto now = std::chrono::steady_clock::now();
  if (spinning_ && text == spinText_ && now - lastFrame_ < std::chrono::milliseconds(80)) return;
  lastFrame_ = now;
  spinText_ = text;
  spinning_ = true;
  // \r and erase-line: the spinner line is redrawn in place.
  fmt::print(out_, "\r\033[2K{} {}", kFrames[frame_++ % std::size(kFrames)], text);
  std::fflush(out_);
}

void StatusPrinter::clearSpinner() {
  if (!spinning_) return;
  fmt::print(out_, "\r\033[2K");
  std::fflush(out_);
  spinning_ = false;
}

void StatusPrinter::print(std::string_view mark, std::string_view text, const std::vector<std::string>& hints) {
  clearSpinner();
  fmt::print(out_, "{} {}\n", mark, text);
  for (const auto& h : hints) fmt::print(out_, "    {}\n", h);
  std::fflush(out_);
}

void StatusPrinter::ok(std::string_view text, const std::vector<std::string>& hints) { print("✔", text, hints); }
void StatusPrinter::fail(std::string_view text, const std::vector<std::string>& hints) { print("✘", text, hints); }
void StatusPrinter::skip(std::string_view text) { print("-", text, {}); }

void StatusPrinter::line(std::string_view text) {
  clearSpinner();
  fmt::print(out_, "{}\n", text);
  std::fflush(out_);
}

}  // namespace mesh::cli

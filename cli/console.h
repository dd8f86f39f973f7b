// Terminal manners shared by install, verify-install and uninstall: istioctl's y/N prompt, and
// status lines in the manner of `linkerd check` — "✔ done", "✘ failed" with hints indented
// under it, "- skipped" — with a spinner redrawn in place while something runs, on a terminal
// only (a pipe or CI log gets the final lines alone). Main thread only.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::cli {

bool isTerminal(std::FILE* stream);

enum class Answer { Yes, No, NoInput };
// istioctl's Confirm: prints "PROMPT " and reads a line; y/yes (any case) is Yes, n/no is No,
// anything else asks again; end of input is NoInput.
Answer confirm(std::string_view prompt, std::FILE* in, std::FILE* out);
// confirm() on stdin/stdout for a command that changes things; on anything but yes prints
// "Cancelled." (and, when stdin is not a terminal and gave no answer, a hint to pass -y to
// `verb` without asking) and returns false.
bool confirmOrCancel(std::string_view prompt, std::string_view verb);

class StatusPrinter {
 public:
  explicit StatusPrinter(std::FILE* out);
  ~StatusPrinter();

  // Shows "⠋ text" and advances the spinner (at most every 80 ms); nothing off a terminal.
  void spin(std::string_view text);
  void ok(std::string_view text, const std::vector<std::string>& hints = {});
  void fail(std::string_view text, const std::vector<std::string>& hints);
  void skip(std::string_view text);
  void line(std::string_view text);  // a plain line (clears the spinner first)

 private:
  void clearSpinner();
  void print(std::string_view mark, std::string_view text, const std::vector<std::string>& hints);

  std::FILE* out_;
  bool tty_;
  bool spinning_ = false;
  size_t frame_ = 0;
  std::string spinText_;
  std::chrono::steady_clock::time_point lastFrame_{};
};

}  // namespace mesh::cli

#include "cli/proxy_config/go_sort.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using mesh::cli::pc::goSortSlice;

TEST_CASE("goSortSlice sorts like any correct sort when keys are distinct") {
  std::vector<int> v;
  for (int i = 0; i < 500; ++i) v.push_back((i * 7919) % 1009);
  std::vector<int> want = v;
  std::sort(want.begin(), want.end());
  goSortSlice(v, [](int a, int b) { return a < b; });
  CHECK(v == want);
}

TEST_CASE("goSortSlice keeps the order of equal elements in short slices (insertion sort, as Go)") {
  std::vector<std::pair<int, char>> v = {{2, 'a'}, {1, 'b'}, {2, 'c'}, {1, 'd'}};
  goSortSlice(v, [](const auto& x, const auto& y) { return x.first < y.first; });
  CHECK(v == std::vector<std::pair<int, char>>{{1, 'b'}, {1, 'd'}, {2, 'a'}, {2, 'c'}});
}

TEST_CASE("goSortSlice copes with comparators that are not orderings, like istioctl's route sort") {
  // Numeric names compare by value; anything else is "not less".
  std::vector<std::string> v = {"8080", "http.80", "443", "80"};
  goSortSlice(v, [](const std::string& a, const std::string& b) {
    if (!std::all_of(a.begin(), a.end(), ::isdigit) || !std::all_of(b.begin(), b.end(), ::isdigit)) return false;
    return std::stoi(a) < std::stoi(b);
  });
  CHECK(v == std::vector<std::string>{"8080", "http.80", "80", "443"});
}

TEST_CASE("goSortSlice handles reverse-sorted and many-duplicate inputs") {
  std::vector<int> desc;
  for (int i = 300; i > 0; --i) desc.push_back(i % 17);
  std::vector<int> want = desc;
  std::sort(want.begin(), want.end());
  goSortSlice(desc, [](int a, int b) { return a < b; });
  CHECK(desc == want);
}

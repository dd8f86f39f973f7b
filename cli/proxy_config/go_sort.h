// Go's sort.Slice (pattern-defeating quicksort, deterministic), so rows that compare equal, or
// comparators that are not strict weak orders (istioctl sorts routes by "numeric name, else
// false"), come out in exactly istioctl's order. A straight port of Go's zsortfunc.go.
// Header-only; no state.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

namespace mesh::cli::pc {
namespace gosort_detail {

enum class Hint { Unknown, Increasing, Decreasing };

template <class T, class Less>
struct Sorter {
  std::vector<T>& data;
  Less& less;

  bool lt(size_t i, size_t j) { return less(data[i], data[j]); }
  void swap(size_t i, size_t j) { std::swap(data[i], data[j]); }

  void insertionSort(size_t a, size_t b) {
    for (size_t i = a + 1; i < b; i++)
      for (size_t j = i; j > a && lt(j, j - 1); j--) swap(j, j - 1);
  }

  void siftDown(size_t lo, size_t hi, size_t first) {
    size_t root = lo;
    for (;;) {
      size_t child = 2 * root + 1;
      if (child >= hi) return;
      if (child + 1 < hi && lt(first + child, first + child + 1)) child++;
      if (!lt(first + root, first + child)) return;
      swap(first + root, first + child);
      root = child;
    }
  }

  void heapSort(size_t a, size_t b) {
    size_t first = a, lo = 0, hi = b - a;
    for (ptrdiff_t i = (static_cast<ptrdiff_t>(hi) - 1) / 2; i >= 0; i--) siftDown(static_cast<size_t>(i), hi, first);
    for (ptrdiff_t i = static_cast<ptrdiff_t>(hi) - 1; i >= 0; i--) {
      swap(first, first + static_cast<size_t>(i));
      siftDown(lo, static_cast<size_t>(i), first);
    }
  }

  void pdqsort(size_t a, size_t b, int limit) {
    constexpr size_t maxInsertion = 12;
    bool wasBalanced = true, wasPartitioned = true;
    for (;;) {
      size_t length = b - a;
      if (length <= maxInsertion) {
        insertionSort(a, b);
        return;
      }
      if (limit == 0) {
        heapSort(a, b);
        return;
      }
      if (!wasBalanced) {
        breakPatterns(a, b);
        limit--;
      }
      auto [pivot, hint] = choosePivot(a, b);
      if (hint == Hint::Decreasing) {
        reverseRange(a, b);
        pivot = (b - 1) - (pivot - a);
        hint = Hint::Increasing;
      }
      if (wasBalanced && wasPartitioned && hint == Hint::Increasing) {
        if (partialInsertionSort(a, b)) return;
      }
      if (a > 0 && !lt(a - 1, pivot)) {
        a = partitionEqual(a, b, pivot);
        continue;
      }
      auto [mid, alreadyPartitioned] = partition(a, b, pivot);
      wasPartitioned = alreadyPartitioned;
      size_t leftLen = mid - a, rightLen = b - mid;
      size_t balanceThreshold = length / 8;
      if (leftLen < rightLen) {
        wasBalanced = leftLen >= balanceThreshold;
        pdqsort(a, mid, limit);
        a = mid + 1;
      } else {
        wasBalanced = rightLen >= balanceThreshold;
        pdqsort(mid + 1, b, limit);
        b = mid;
      }
    }
  }

  std::pair<size_t, bool> partition(size_t a, size_t b, size_t pivot) {
    swap(a, pivot);
    ptrdiff_t i = static_cast<ptrdiff_t>(a) + 1, j = static_cast<ptrdiff_t>(b) - 1;
    auto at = [](ptrdiff_t k) { return static_cast<size_t>(k); };
    while (i <= j && lt(at(i), a)) i++;
    while (i <= j && !lt(at(j), a)) j--;
    if (i > j) {
      swap(at(j), a);
      return {at(j), true};
    }
    swap(at(i), at(j));
    i++;
    j--;
    for (;;) {
      while (i <= j && lt(at(i), a)) i++;
      while (i <= j && !lt(at(j), a)) j--;
      if (i > j) break;
      swap(at(i), at(j));
      i++;
      j--;
    }
    swap(at(j), a);
    return {at(j), false};
  }

  size_t partitionEqual(size_t a, size_t b, size_t pivot) {
    swap(a, pivot);
    ptrdiff_t i = static_cast<ptrdiff_t>(a) + 1, j = static_cast<ptrdiff_t>(b) - 1;
    auto at = [](ptrdiff_t k) { return static_cast<size_t>(k); };
    for (;;) {
      while (i <= j && !lt(a, at(i))) i++;
      while (i <= j && lt(a, at(j))) j--;
      if (i > j) break;
      swap(at(i), at(j));
      i++;
      j--;
    }
    return at(i);
  }

  bool partialInsertionSort(size_t a, size_t b) {
    constexpr int maxSteps = 5;
    constexpr size_t shortestShifting = 50;
    size_t i = a + 1;
    for (int step = 0; step < maxSteps; step++) {
      while (i < b && !lt(i, i - 1)) i++;
      if (i == b) return true;
      if (b - a < shortestShifting) return false;
      swap(i, i - 1);
      if (i - a >= 2) {
        for (size_t j = i - 1; j >= 1; j--) {
          if (!lt(j, j - 1)) break;
          swap(j, j - 1);
        }
      }
      if (b - i >= 2) {
        for (size_t j = i + 1; j < b; j++) {
          if (!lt(j, j - 1)) break;
          swap(j, j - 1);
        }
      }
    }
    return false;
  }

  void breakPatterns(size_t a, size_t b) {
    size_t length = b - a;
    if (length < 8) return;
    uint64_t random = length;  // Go: xorshift(length)
    size_t modulus = size_t{1} << std::bit_width(length);
    for (size_t idx = a + (length / 4) * 2 - 1; idx <= a + (length / 4) * 2 + 1; idx++) {
      random ^= random << 13;
      random ^= random >> 7;
      random ^= random << 17;
      size_t other = static_cast<size_t>(random) & (modulus - 1);
      if (other >= length) other -= length;
      swap(idx, a + other);
    }
  }

  std::pair<size_t, Hint> choosePivot(size_t a, size_t b) {
    constexpr size_t shortestNinther = 50;
    constexpr int maxSwaps = 4 * 3;
    size_t l = b - a;
    int swaps = 0;
    size_t i = a + l / 4 * 1, j = a + l / 4 * 2, k = a + l / 4 * 3;
    if (l >= 8) {
      if (l >= shortestNinther) {
        i = medianAdjacent(i, swaps);
        j = medianAdjacent(j, swaps);
        k = medianAdjacent(k, swaps);
      }
      j = median(i, j, k, swaps);
    }
    if (swaps == 0) return {j, Hint::Increasing};
    if (swaps == maxSwaps) return {j, Hint::Decreasing};
    return {j, Hint::Unknown};
  }

  std::pair<size_t, size_t> order2(size_t a, size_t b, int& swaps) {
    if (lt(b, a)) {
      swaps++;
      return {b, a};
    }
    return {a, b};
  }

  size_t median(size_t a, size_t b, size_t c, int& swaps) {
    std::tie(a, b) = order2(a, b, swaps);
    std::tie(b, c) = order2(b, c, swaps);
    std::tie(a, b) = order2(a, b, swaps);
    return b;
  }

  size_t medianAdjacent(size_t a, int& swaps) { return median(a - 1, a, a + 1, swaps); }

  void reverseRange(size_t a, size_t b) {
    size_t i = a, j = b - 1;
    while (i < j) swap(i++, j--);
  }
};

}  // namespace gosort_detail

// sort.Slice(data, less): not stable, but deterministic and identical to Go's order.
template <class T, class Less>
void goSortSlice(std::vector<T>& data, Less less) {
  size_t n = data.size();
  if (n < 2) return;
  gosort_detail::Sorter<T, Less> sorter{data, less};
  sorter.pdqsort(0, n, std::bit_width(n));
}

}  // namespace mesh::cli::pc

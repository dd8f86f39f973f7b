// Bump allocator that owns every node and string of one parsed file. Nodes are freed all at
// once with the Tree; nothing in it runs a destructor. Not thread-safe: one arena per file,
// filled by the thread that parses it, read-only afterwards.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace mesh::core {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* allocate(size_t size, size_t align) {
    size_t offset = (used_ + align - 1) & ~(align - 1);
    if (chunks_.empty() || offset + size > capacity_) {
      size_t chunk = size + align > kChunk ? size + align : kChunk;
      chunks_.push_back(std::make_unique<std::byte[]>(chunk));
      capacity_ = chunk;
      offset = (reinterpret_cast<uintptr_t>(chunks_.back().get()) % align) == 0
                   ? 0
                   : align - reinterpret_cast<uintptr_t>(chunks_.back().get()) % align;
      bytes_ += chunk;
    }
    used_ = offset + size;
    return chunks_.back().get() + offset;
  }

  template <class T>
  T* make() {
    return new (allocate(sizeof(T), alignof(T))) T();
  }

  template <class T>
  T* array(size_t n) {
    if (n == 0) return nullptr;
    return static_cast<T*>(allocate(sizeof(T) * n, alignof(T)));
  }

  std::string_view copy(std::string_view s) {
    if (s.empty()) return {};
    char* p = static_cast<char*>(allocate(s.size(), 1));
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }

  size_t bytesReserved() const { return bytes_; }

 private:
  static constexpr size_t kChunk = 64 * 1024;
  std::vector<std::unique_ptr<std::byte[]>> chunks_;
  size_t used_ = 0;
  size_t capacity_ = 0;
  size_t bytes_ = 0;
};

}  // namespace mesh::core

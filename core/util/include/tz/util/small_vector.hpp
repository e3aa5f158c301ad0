// A vector that keeps its first N elements inside itself and moves to the heap only beyond them.
// A field of a record nearly always holds one live version; a county holds millions of fields, so one
// heap block each (what std::vector costs) was most of the time spent loading and freeing a store
// (decision 431). The subset of std::vector's interface the code uses, with the same meaning;
// elements are contiguous, iterators are pointers and are invalidated as std::vector's are.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

namespace tz {

template <typename T, size_t N>
class SmallVector {
  static_assert(N > 0);

 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;

  SmallVector() noexcept = default;
  SmallVector(std::initializer_list<T> init) { assign(init.begin(), init.end()); }
  template <typename It, typename = typename std::iterator_traits<It>::iterator_category>
  SmallVector(It first, It last) {
    assign(first, last);
  }
  SmallVector(const SmallVector& o) { assign(o.begin(), o.end()); }
  SmallVector(SmallVector&& o) noexcept(std::is_nothrow_move_constructible_v<T>) { take(std::move(o)); }
  ~SmallVector() { release(); }

  SmallVector& operator=(const SmallVector& o) {
    if (this != &o) {
      clear();
      assign(o.begin(), o.end());
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &o) {
      release();
      take(std::move(o));
    }
    return *this;
  }

  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cbegin() const noexcept { return data_; }
  const_iterator cend() const noexcept { return data_ + size_; }
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_t capacity() const noexcept { return cap_; }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& at(size_t i) {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data_[i];
  }
  const T& at(size_t i) const {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data_[i];
  }
  T& front() { return data_[0]; }
  const T& front() const { return data_[0]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }

  void reserve(size_t n) {
    if (n > cap_) grow_to(n);
  }
  void clear() noexcept {
    std::destroy(data_, data_ + size_);
    size_ = 0;
  }
  void push_back(const T& v) { emplace_back(v); }
  void push_back(T&& v) { emplace_back(std::move(v)); }
  template <typename... A>
  T& emplace_back(A&&... args) {
    if (size_ == cap_) {
      // The new element is made first: args may refer to an element about to move.
      T made(std::forward<A>(args)...);
      grow_to(cap_ * 2);
      ::new (static_cast<void*>(data_ + size_)) T(std::move(made));
    } else {
      ::new (static_cast<void*>(data_ + size_)) T(std::forward<A>(args)...);
    }
    return data_[size_++];
  }
  void pop_back() {
    std::destroy_at(data_ + size_ - 1);
    --size_;
  }
  void resize(size_t n) {
    if (n < size_) {
      std::destroy(data_ + n, data_ + size_);
      size_ = static_cast<uint32_t>(n);
      return;
    }
    reserve(n);
    std::uninitialized_value_construct(data_ + size_, data_ + n);
    size_ = static_cast<uint32_t>(n);
  }

  iterator insert(const_iterator pos, T v) {
    const size_t at = static_cast<size_t>(pos - data_);
    emplace_back(std::move(v));
    std::rotate(data_ + at, data_ + size_ - 1, data_ + size_);
    return data_ + at;
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    T* f = data_ + (first - data_);
    T* l = data_ + (last - data_);
    if (f != l) {
      T* new_end = std::move(l, data_ + size_, f);
      std::destroy(new_end, data_ + size_);
      size_ = static_cast<uint32_t>(new_end - data_);
    }
    return f;
  }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

  // std::erase_if for this container.
  template <typename Pred>
  friend size_t erase_if(SmallVector& v, Pred pred) {
    auto it = std::remove_if(v.begin(), v.end(), pred);
    const size_t n = static_cast<size_t>(v.end() - it);
    v.erase(it, v.end());
    return n;
  }

 private:
  bool is_inline() const noexcept { return data_ == inline_data(); }
  T* inline_data() noexcept { return reinterpret_cast<T*>(inline_); }
  const T* inline_data() const noexcept { return reinterpret_cast<const T*>(inline_); }

  template <typename It>
  void assign(It first, It last) {
    reserve(static_cast<size_t>(std::distance(first, last)));
    for (; first != last; ++first) emplace_back(*first);
  }

  void grow_to(size_t n) {
    if (n > UINT32_MAX) throw std::length_error("SmallVector");
    n = std::max(n, N);
    T* fresh = std::allocator<T>().allocate(n);
    try {
      std::uninitialized_move(data_, data_ + size_, fresh);
    } catch (...) {
      std::allocator<T>().deallocate(fresh, n);
      throw;
    }
    std::destroy(data_, data_ + size_);
    if (!is_inline()) std::allocator<T>().deallocate(data_, cap_);
    data_ = fresh;
    cap_ = static_cast<uint32_t>(n);
  }

  // Back to empty and inline, the heap block (if any) freed.
  void release() noexcept {
    std::destroy(data_, data_ + size_);
    if (!is_inline()) std::allocator<T>().deallocate(data_, cap_);
    data_ = inline_data();
    size_ = 0;
    cap_ = N;
  }

  // From an empty, inline *this: o's heap block is taken as it is; inline elements are moved.
  void take(SmallVector&& o) {
    if (o.is_inline()) {
      std::uninitialized_move(o.data_, o.data_ + o.size_, data_);
      size_ = o.size_;
      o.clear();
    } else {
      data_ = o.data_;
      size_ = o.size_;
      cap_ = o.cap_;
      o.data_ = o.inline_data();
      o.size_ = 0;
      o.cap_ = N;
    }
  }

  alignas(T) unsigned char inline_[sizeof(T) * N];
  T* data_ = inline_data();
  uint32_t size_ = 0;  // a field never holds 4 billion versions: 8 bytes less on every field of a county
  uint32_t cap_ = N;
};

}  // namespace tz

// One write transaction of the server store around a function whose Result decides commit or
// rollback (server_auth.cpp, users.cpp).
#pragma once

#include "tz/sync/server_store.hpp"

namespace tz::sync {

template <typename F>
auto in_txn(ServerStore& store, F f) -> decltype(f()) {
  store.begin();
  try {
    auto out = f();
    if (out) store.commit(nullptr, nullptr);
    else store.rollback();
    return out;
  } catch (...) {
    store.rollback();
    throw;
  }
}

}  // namespace tz::sync

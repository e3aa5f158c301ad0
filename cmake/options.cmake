# Warning and sanitizer settings live on an interface target, never on global flags.
add_library(tz_options INTERFACE)
target_compile_options(tz_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wno-missing-field-initializers
  # GCC 12 reports -Wrestrict inside libstdc++ string appends at -O2 (GCC bug 105329): a false positive.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
if(TZ_WERROR)
  target_compile_options(tz_options INTERFACE -Werror)
endif()
if(TZ_FUZZ)
  # Every library is instrumented for libFuzzer's coverage; only the fuzz targets link its driver.
  target_compile_options(tz_options INTERFACE -fsanitize=fuzzer-no-link)
endif()
if(TZ_SANITIZE)
  target_compile_options(tz_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=all
    # GCC 12's -Wmaybe-uninitialized misfires on libstdc++ (std::regex's std::function states) once
    # ASan instruments an optimised build; ASan itself reports real uninitialised reads at run time.
    $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  target_link_options(tz_options INTERFACE -fsanitize=address,undefined)
endif()

# tz_add_layer(NAME SOURCES... [DEPS ...]) defines one layer library with its own include folder,
# so a header of a lower layer cannot even see the headers of a higher one.
function(tz_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tz_${name} STATIC ${ARG_SOURCES})
  target_include_directories(tz_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(tz_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE tz_options ${ARG_PRIVATE_DEPS})
endfunction()

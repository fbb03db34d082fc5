# The HTTP layer's request path (server/): parser, request assembly, routing, responses.
# The layer's sources are compiled into the target itself so that, in fuzzing builds, they
# carry the coverage instrumentation the fuzzer steers by.
if(TARGET scitt_server)
  file(GLOB scitt_http_fuzz_srcs
    ${CMAKE_SOURCE_DIR}/server/http*.c ${CMAKE_SOURCE_DIR}/server/tls*.c
    ${CMAKE_SOURCE_DIR}/server/log*.c ${CMAKE_SOURCE_DIR}/server/arena*.c
    ${CMAKE_SOURCE_DIR}/server/ratelimit*.c)
  scitt_fuzz_target(http_server SOURCES http_server.c ${scitt_http_fuzz_srcs}
    LIBS scitt scitt_llhttp PkgConfig::LIBUV OpenSSL::SSL OpenSSL::Crypto m)
  foreach(t replay_http_server fuzz_http_server)
    if(TARGET ${t})
      target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/server)
    endif()
  endforeach()
endif()

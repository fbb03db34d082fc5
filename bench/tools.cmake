# scitt tool benchmark: CCF receipt verification against its signature step, and the HTTP parser
# against memcpy.
# The parser is libscitt-client's (client/http.h, internal).
if(TARGET scitt_client)
  scitt_executable(tools_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/tools_bench.c
    LIBS scitt_client_static scitt)
  target_include_directories(tools_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/client)
endif()

# scitt tool benchmark: CCF receipt verification against its signature step, and the HTTP parser
# against memcpy.
if(TARGET scitt_tools)
  scitt_executable(tools_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/tools_bench.c
    LIBS scitt_tools scitt)
  target_include_directories(tools_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests)
endif()

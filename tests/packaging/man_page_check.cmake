# SPDX-License-Identifier: GPL-2.0-or-later
# Fails unless the man page PAGE lists, as an item of its own, every option line that
# `PROGRAM --help` prints (its names and value name, e.g. "-d,--device DEVICE").
#   cmake -DPROGRAM=... [-DEMULATOR=...] -DPAGE=....1 -P man_page_check.cmake
execute_process(COMMAND ${EMULATOR} ${PROGRAM} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --help exited with ${rc}")
endif()
file(READ ${PAGE} page)
# The page's text without roff's font changes and escapes: \fB, \fR, \fI, \fP, \, \/ and \-.
string(REGEX REPLACE "\\\\f[A-Z]" "" page "${page}")
string(REPLACE "\\," "" page "${page}")
string(REPLACE "\\/" "" page "${page}")
string(REPLACE "\\-" "-" page "${page}")

string(REPLACE "\n" ";" lines "${help}")
set(checked 0)
set(missing "")
foreach(line IN LISTS lines)
  # An option line: two spaces, the names, maybe a value name, then two spaces or the end.
  if(line MATCHES "^  (-[^ ]+( [^ ]+)?)(  |$)")
    set(item "${CMAKE_MATCH_1}")
    math(EXPR checked "${checked} + 1")
    string(FIND "${page}" ".TP\n${item}\n" at)
    if(at EQUAL -1)
      list(APPEND missing "${item}")
    endif()
  endif()
endforeach()
if(checked LESS 5)
  message(FATAL_ERROR "found only ${checked} options in ${PROGRAM} --help: not the format expected")
endif()
if(missing)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "${PAGE} lacks options that ${PROGRAM} --help lists:\n  ${missing}")
endif()
message(STATUS "${PAGE}: all ${checked} options of --help are in the page")

# ctest order_store_demo: runs the demo with 500 orders; passes only if it exits 0 and
# prints the lines that carry its promises.
#   cmake -DDEMO=path/to/piicrypt_order_store -P demo_test.cmake
execute_process(COMMAND ${DEMO} --orders 500
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "the demo exited with status ${status}: ${err}")
endif()
set(expected
  "500 orders and [0-9]+ click-and-collect bookings"
  "✔ [0-9,]+ lookups \\(orders by e-mail and by phone, bookings by e-mail, typed differently from what was stored\\): [0-9,]+ returned exactly the expected rows"
  "✔ a returning customer's lookup finds the orders under the old and the new key"
  "✔ 0 of the plaintext names, e-mails, phones, addresses and purchases appear \\(0 found\\)"
  "✔ 0 card numbers appear"
  "✔ control: the same search over a careless copy"
  "✔ 525 of 525 orders decrypt to exactly what was written"
  "✔ the moved value fails to decrypt"
  "✔ the stolen backup, with the keyset and KEK, yields 0 of [0-9,]+ of the forgotten customer's values"
  "All 11 checks passed.")
foreach(line IN LISTS expected)
  if(NOT out MATCHES "${line}")
    message(FATAL_ERROR "missing from the demo's output: ${line}")
  endif()
endforeach()
if(out MATCHES "FAILED")
  message(FATAL_ERROR "the demo reported a failed check")
endif()
# The working directory is removed at the end.
string(REGEX MATCH "Working directory ([^ ]+)" _ "${out}")
if(NOT CMAKE_MATCH_1 OR EXISTS "${CMAKE_MATCH_1}")
  message(FATAL_ERROR "the demo's working directory '${CMAKE_MATCH_1}' was not removed")
endif()

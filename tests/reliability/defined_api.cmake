# defined_api.cmake — which public functions this tree defines, for tests of parts of the
# library that are added over time (SVG pictures, plan files, exports): a test that calls
# them is compiled with a define only when every function it needs is defined in src/.
#   p3cfg_define_if_defined(TARGET DEFINE FUNCTION...)
file(GLOB P3CFG_API_SOURCES ${CMAKE_SOURCE_DIR}/src/*/*.c)
set(P3CFG_DEFINED_API "")
foreach(src ${P3CFG_API_SOURCES})
  file(STRINGS ${src} defs REGEX "^P3CFG_API [a-z0-9_ *]*p3cfg_[a-z0-9_]+\\(")
  foreach(d ${defs})
    string(REGEX REPLACE "^P3CFG_API [a-z0-9_ *]*(p3cfg_[a-z0-9_]+)\\(.*" "\\1" fn "${d}")
    list(APPEND P3CFG_DEFINED_API ${fn})
  endforeach()
endforeach()

function(p3cfg_define_if_defined target define)
  foreach(fn ${ARGN})
    if(NOT fn IN_LIST P3CFG_DEFINED_API)
      return()
    endif()
  endforeach()
  target_compile_definitions(${target} PRIVATE ${define}=1)
endfunction()

set(P3CFG_SVG_API p3cfg_result_svg_timeline p3cfg_result_svg_links p3cfg_result_svg_memory)
set(P3CFG_EXPORT_API p3cfg_plan_file_from_result p3cfg_plan_file_load p3cfg_plan_file_load_string
    p3cfg_plan_file_free p3cfg_plan_file_count p3cfg_plan_file_plan p3cfg_plan_file_model
    p3cfg_plan_file_cluster p3cfg_plan_file_placement p3cfg_export p3cfg_export_format_name
    p3cfg_export_format_parse)

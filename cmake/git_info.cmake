# Writes OUT (git_info.h) with the source tree's commit, rewriting it only when it changed so
# that an unchanged commit rebuilds nothing.
execute_process(COMMAND git -C "${SRC}" rev-parse HEAD
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
endif()
execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc2 ERROR_QUIET)
set(dirty 0)
if(rc2 EQUAL 0 AND NOT changes STREQUAL "")
  set(dirty 1)
endif()
set(text "#define SB_GIT_COMMIT \"${commit}\"\n#define SB_GIT_DIRTY ${dirty}\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
else()
  set(old "")
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()

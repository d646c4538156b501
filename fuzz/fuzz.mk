# Build the fuzz targets with clang (GNU make; run through "make fuzz" or
# "make fuzz-coverage" in fuzz/, which pass the variables below).
#
# The library and the daemon (all but its main) are compiled from source
# with clang's instrumentation into one archive, so each target links only
# what it reaches; the gcc-built objects are never reused.
#
#   MODE=fuzz  libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer
#   MODE=cov   libFuzzer driver + source-based coverage (no sanitizers)

CLANG ?= clang
AR ?= ar
MODE ?= fuzz
top_srcdir ?= ..
top_builddir ?= ..
out ?= out

ifeq ($(MODE),cov)
INSTR = -fprofile-instr-generate -fcoverage-mapping
LIB_INSTR = $(INSTR)
LINK_INSTR = -fsanitize=fuzzer $(INSTR)
else ifeq ($(MODE),fuzz)
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
LIB_INSTR = -fsanitize=fuzzer-no-link $(SAN)
LINK_INSTR = -fsanitize=fuzzer $(SAN)
else
$(error MODE must be fuzz or cov)
endif

O = $(out)/$(MODE)
CFLAGS_ALL = -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-I$(top_srcdir)/lib -I$(top_srcdir)/lib/runners \
	-I$(top_srcdir)/include -I$(top_srcdir)/daemon -I$(top_builddir) \
	$(DEFS_DAEMON) $(PKG_CFLAGS)
LIBS_ALL = $(PKG_LIBS) -lpthread -ldl -lm

# All but main.c and the crash-simulation build's own files.
LIB_SRCS = $(filter-out %/jcrashsim.c %/main.c %/replaycheck.c, \
	$(wildcard $(top_srcdir)/lib/*.c $(top_srcdir)/lib/runners/*.c \
	$(top_srcdir)/daemon/*.c))
LIB_OBJS = $(patsubst $(top_srcdir)/%.c,$(O)/%.o,$(LIB_SRCS))
TARGETS = frame load journal
BINS = $(TARGETS:%=$(O)/fuzz_%)

all: $(BINS)

$(O)/%.o: $(top_srcdir)/%.c
	@mkdir -p $(@D)
	@echo "  CLANG    $*.c"
	@$(CLANG) $(CFLAGS_ALL) $(LIB_INSTR) -MMD -MP -c $< -o $@

$(O)/libfuzzed.a: $(LIB_OBJS)
	@rm -f $@
	@$(AR) rcs $@ $^

$(O)/fuzz_%: $(O)/fuzz/fuzz_%.o $(O)/fuzz/common.o $(O)/libfuzzed.a
	@echo "  LINK     $(@F)"
	@$(CLANG) $(LINK_INSTR) $^ $(LIBS_ALL) -o $@

.PHONY: all
.SECONDARY:
-include $(LIB_OBJS:.o=.d) $(O)/fuzz/common.d $(TARGETS:%=$(O)/fuzz/fuzz_%.d)

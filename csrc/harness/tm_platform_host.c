/* The runner on a desktop: stdio files, stdout, nothing to count. Usage: model_runner INPUTS OUTPUTS */
#include <stdio.h>
#include "tm_platform.h"

#define MAX_FILES 4
static FILE *files[MAX_FILES];

int32_t tm_file_open(const char *path, int write) {
  for (int32_t h = 0; h < MAX_FILES; h++) {
    if (!files[h]) {
      files[h] = fopen(path, write ? "wb" : "rb");
      return files[h] ? h : -1;
    }
  }
  return -1;
}

int32_t tm_file_size(int32_t h) {
  long here = ftell(files[h]), size;
  fseek(files[h], 0, SEEK_END);
  size = ftell(files[h]);
  fseek(files[h], here, SEEK_SET);
  return (int32_t)size;
}

int32_t tm_file_read(int32_t h, void *buf, uint32_t n) { return (int32_t)fread(buf, 1, n, files[h]); }
int32_t tm_file_write(int32_t h, const void *buf, uint32_t n) { return (int32_t)fwrite(buf, 1, n, files[h]); }

void tm_file_close(int32_t h) {
  fclose(files[h]);
  files[h] = 0;
}

void tm_print(const char *text) { printf("%s\n", text); }
void tm_counter_start(void) {}
uint32_t tm_counter_read(void) { return 0; }
/* The host has no instruction counter: the runner reports each case without one. */
const char *tm_counter_unit(void) { return 0; }

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s INPUTS OUTPUTS\n", argv[0]);
    return 2;
  }
  return tm_run(argv[1], argv[2]);
}

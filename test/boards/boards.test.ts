import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOARDS, findBoard, fitReport, requireFit } from '../../src/boards/boards.js';
import { DoesNotFitError, InputError } from '../../src/errors.js';

const KiB = 1024;

test('the profiles the brief names exist with their published memory and clock', () => {
  const expect: [string, string, number, number, number][] = [
    ['STM32F412', 'cortex-m4', 100, 256 * KiB, 1024 * KiB],
    ['STM32F746', 'cortex-m7', 216, 320 * KiB, 1024 * KiB],
    ['STM32H743', 'cortex-m7', 480, 512 * KiB, 2048 * KiB],
    ['nRF52840', 'cortex-m4', 64, 256 * KiB, 1024 * KiB],
    ['RP2040', 'cortex-m0+', 133, 264 * KiB, 2048 * KiB],
    ['ESP32-S3', 'xtensa-lx7', 240, 512 * KiB, 8192 * KiB],
    ['mps2-an386', 'cortex-m4', 25, 4096 * KiB, 4096 * KiB],
    ['mps2-an500', 'cortex-m7', 25, 4096 * KiB, 4096 * KiB],
  ];
  for (const [name, core, mhz, sram, flash] of expect) {
    const b = findBoard(name);
    assert.equal(b.name, name);
    assert.equal(b.core, core, name);
    assert.equal(b.clockMHz, mhz, name);
    assert.equal(b.sramBytes, sram, name);
    assert.equal(b.flashBytes, flash, name);
    assert.ok(b.notes.length > 0);
  }
  assert.equal(new Set(BOARDS.map((b) => b.name.toLowerCase())).size, BOARDS.length);
});

test('findBoard ignores case and separators and knows aliases', () => {
  assert.equal(findBoard('stm32h743').name, 'STM32H743');
  assert.equal(findBoard('STM32-F412').name, 'STM32F412');
  assert.equal(findBoard('esp32s3').name, 'ESP32-S3');
  assert.equal(findBoard('MPS2_AN386').name, 'mps2-an386');
  assert.equal(findBoard('pico').name, 'RP2040');
});

test('an unknown board is an InputError that lists the known boards', () => {
  assert.throws(() => findBoard('arduino-uno'), (e: unknown) => {
    assert.ok(e instanceof InputError);
    for (const b of BOARDS) assert.ok(e.message.includes(b.name), `${b.name} listed`);
    return true;
  });
});

test('fitReport says whether it fits and by how much it misses', () => {
  const h7 = findBoard('stm32h743');
  const ok = fitReport(h7, 92 * KiB, 521 * KiB);
  assert.equal(ok.fits, true);
  assert.equal(ok.sram.shortBytes, 92 * KiB - 512 * KiB);
  requireFit(ok);

  const f412 = findBoard('stm32f412');
  const tflm = fitReport(f412, 220 * KiB + 1, 2 * 1024 * KiB);
  assert.equal(tflm.fits, false);
  assert.equal(tflm.sram.fits, true);
  assert.equal(tflm.flash.fits, false);
  assert.equal(tflm.flash.shortBytes, 1024 * KiB);

  const big = fitReport(f412, 300 * KiB, 10);
  assert.equal(big.sram.shortBytes, 44 * KiB);
  assert.throws(() => requireFit(big), (e: unknown) => e instanceof DoesNotFitError && e.resource === 'SRAM' && e.needBytes - e.haveBytes === 44 * KiB);

  // Exactly full fits.
  assert.equal(fitReport(f412, 256 * KiB, 1024 * KiB).fits, true);
});

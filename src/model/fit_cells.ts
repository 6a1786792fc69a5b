/**
 * A model's fit as the result log writes it: the cells of its row before `time,diff`. Rows are compared
 * as written, so the keyed and windowed model stages keep these cells per key and window.
 *
 * @example
 * ```ts
 * import { modelCells } from "./fit_cells.ts";
 * modelCells(config, fit); // "1.5,,2" with the second coefficient aliased
 * ```
 * @module
 */

import { formatNumber } from "./format_number.ts";
import type { ModelConfig } from "./model_config.ts";
import type { ModelResult } from "./sink.ts";

/**
 * The cells of a fit's row before `time,diff`, joined by commas: the coefficients, then with `stats`
 * n, r2, sigma and the standard errors; an undefined value (NaN, an aliased column) is an empty cell.
 *
 * @example
 * ```ts
 * modelCells(config, fit); // "1.5,,2" with the second coefficient aliased
 * ```
 */
export function modelCells(config: ModelConfig, fit: ModelResult): string {
  const cell = (v: number) => (v !== v ? "" : formatNumber(v));
  const cells: string[] = [];
  for (let i = 0; i < fit.coefficients.length; i++) {
    cells.push(fit.aliased[i] ? "" : cell(fit.coefficients[i]));
  }
  if (config.stats) {
    cells.push(cell(fit.n), cell(fit.r2), cell(fit.sigma));
    for (let i = 0; i < fit.se.length; i++) cells.push(fit.aliased[i] ? "" : cell(fit.se[i]));
  }
  return cells.join(",");
}

// Geohash cells and great-circle distance: how `GET /api/nodes/nearby` reads a few index cells instead of every node.
const BASE32 = '0123456789bcdefghjkmnpqrstuvwxyz';
const EARTH_RADIUS_KM = 6371.0088;

/** The precision of the index partition (`cell`): ~156 km × 156 km at the equator. */
export const CELL_PRECISION = 3;
/** The precision stored in `geohash` (~5 m): the sort key a finer cell is a prefix of. */
export const GEOHASH_PRECISION = 9;
/** A search reads at most this many cells, at the finest precision that needs no more of them. */
export const MAX_CELLS = 16;
/** Where even the coarsest cells are too many to read (near a pole, most of a row of longitudes), a search is refused. */
export const MAX_COARSE_CELLS = 64;
export const MAX_RADIUS_KM = 200;

export function geohash(lat: number, lon: number, precision = GEOHASH_PRECISION): string {
  let [latLo, latHi, lonLo, lonHi] = [-90, 90, -180, 180];
  let hash = '';
  let bits = 0;
  let value = 0;
  let even = true;
  while (hash.length < precision) {
    if (even) {
      const mid = (lonLo + lonHi) / 2;
      value = value * 2 + (lon >= mid ? 1 : 0);
      if (lon >= mid) lonLo = mid;
      else lonHi = mid;
    } else {
      const mid = (latLo + latHi) / 2;
      value = value * 2 + (lat >= mid ? 1 : 0);
      if (lat >= mid) latLo = mid;
      else latHi = mid;
    }
    even = !even;
    if (++bits === 5) {
      hash += BASE32[value];
      bits = 0;
      value = 0;
    }
  }
  return hash;
}

/** Cell height and width in degrees at a precision: longitude takes the odd bits. */
function cellSize(precision: number): { lat: number; lon: number } {
  const bits = precision * 5;
  return { lat: 180 / 2 ** Math.floor(bits / 2), lon: 360 / 2 ** Math.ceil(bits / 2) };
}

/**
 * The geohash cells covering the circle's bounding box, at the finest precision (from 6 down to CELL_PRECISION)
 * that needs at most MAX_CELLS of them; each is a prefix of the `geohash` of every node inside it. Undefined when
 * even CELL_PRECISION needs more than MAX_COARSE_CELLS. The cells are counted from the box before any is built, so a
 * box round a pole (millions of fine cells) costs microseconds, not seconds.
 */
export function coveringCells(lat: number, lon: number, radiusKm: number): string[] | undefined {
  const dLat = (radiusKm / EARTH_RADIUS_KM) * (180 / Math.PI);
  const cosLat = Math.cos((lat * Math.PI) / 180);
  const dLon = cosLat < 1e-9 || Math.abs(lat) + dLat >= 90 ? 180 : Math.min(180, dLat / cosLat);
  const [south, north] = [Math.max(-90, lat - dLat), Math.min(90, lat + dLat)];
  for (let precision = 6; precision >= CELL_PRECISION; precision--) {
    const size = cellSize(precision);
    const rows = spanOf(south + 90, north + 90, size.lat, Math.round(180 / size.lat), false);
    const cols = spanOf(lon - dLon + 180, lon + dLon + 180, size.lon, Math.round(360 / size.lon), true);
    const count = rows.length * cols.length;
    if (count > (precision === CELL_PRECISION ? MAX_COARSE_CELLS : MAX_CELLS)) continue;
    const cells: string[] = [];
    for (const r of rows.indices())
      for (const c of cols.indices())
        cells.push(geohash(-90 + (r + 0.5) * size.lat, -180 + (c + 0.5) * size.lon, precision));
    return [...new Set(cells)];
  }
  return undefined;
}

/**
 * Cell indices from `lo` to `hi` (offsets from the grid's origin), wrapping round the date line for longitude:
 * how many there are, known before any is listed.
 */
function spanOf(lo: number, hi: number, size: number, count: number, wraps: boolean) {
  const first = Math.floor(lo / size);
  const last = Math.min(Math.floor(hi / size), first + count - 1);
  const [from, to] = wraps
    ? [first, last]
    : [Math.min(count - 1, Math.max(0, first)), Math.min(count - 1, Math.max(0, last))];
  return {
    length: to - from + 1,
    *indices() {
      for (let i = from; i <= to; i++) yield wraps ? ((i % count) + count) % count : i;
    },
  };
}

export function distanceKm(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const rad = Math.PI / 180;
  const dLat = (bLat - aLat) * rad;
  const dLon = (bLon - aLon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(aLat * rad) * Math.cos(bLat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

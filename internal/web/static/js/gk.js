// Gauss-Krüger (transverse Mercator) projection of CGCS2000 lon/lat to
// the 3-degree zone plane, for the cursor readout only: every measurement
// the service reports is made by PostGIS. Krüger's series to n⁶ (Karney
// 2011, "Transverse Mercator with an accuracy of a few nanometres"),
// better than 1 mm within a 3° zone. The browser tests compare it with
// PostGIS's ST_Transform.

// CGCS2000 ellipsoid (EPSG:1024): semi-major axis (m) and flattening.
const A_AXIS = 6378137;
const F = 1 / 298.257222101;

const n = F / (2 - F);
const e = Math.sqrt(F * (2 - F));
const n2 = n * n, n3 = n2 * n, n4 = n3 * n, n5 = n4 * n, n6 = n5 * n;
const rectA = A_AXIS / (1 + n) * (1 + n2 / 4 + n4 / 64 + n6 / 256);
const alpha = [
  n / 2 - 2 * n2 / 3 + 5 * n3 / 16 + 41 * n4 / 180 - 127 * n5 / 288 + 7891 * n6 / 37800,
  13 * n2 / 48 - 3 * n3 / 5 + 557 * n4 / 1440 + 281 * n5 / 630 - 1983433 * n6 / 1935360,
  61 * n3 / 240 - 103 * n4 / 140 + 15061 * n5 / 26880 + 167603 * n6 / 181440,
  49561 * n4 / 161280 - 179 * n5 / 168 + 6601661 * n6 / 7257600,
  34729 * n5 / 80640 - 3418889 * n6 / 1995840,
  212378941 * n6 / 319334400,
];

// zone3 is the 3-degree zone number of a longitude (central meridian 3·zone).
export function zone3(lon) {
  return Math.round(lon / 3);
}

// gk projects lon/lat (degrees, CGCS2000) to the 3-degree Gauss-Krüger
// zone of the longitude: scale 1, false northing 0, false easting 500 000 m.
// It returns northing x and easting y in metres (the surveyor's X, Y), the
// zone, its central meridian, the EPSG codes without (4534 + (CM−75)/3)
// and with the zone number in the easting (4488 + zone, zones 25–45), and
// yZone, the easting with the zone number (zone·10⁶ + y).
export function gk(lon, lat, zone = zone3(lon)) {
  const cm = zone * 3;
  const phi = lat * Math.PI / 180;
  const lam = (lon - cm) * Math.PI / 180;
  const sinPhi = Math.sin(phi);
  const tau = Math.sinh(Math.atanh(sinPhi) - e * Math.atanh(e * sinPhi));
  const xiP = Math.atan2(tau, Math.cos(lam));
  const etaP = Math.atanh(Math.sin(lam) / Math.sqrt(1 + tau * tau));
  let xi = xiP, eta = etaP;
  for (let j = 1; j <= 6; j++) {
    xi += alpha[j - 1] * Math.sin(2 * j * xiP) * Math.cosh(2 * j * etaP);
    eta += alpha[j - 1] * Math.cos(2 * j * xiP) * Math.sinh(2 * j * etaP);
  }
  const x = rectA * xi;
  const y = rectA * eta + 500000;
  return {
    x, y, zone, cm,
    epsg: 4534 + (cm - 75) / 3,
    epsgZone: zone >= 25 && zone <= 45 ? 4488 + zone : null,
    yZone: zone * 1e6 + y,
  };
}

// A QR code as an SVG path, made locally (no network, no canvas).

import qrcode from 'qrcode-generator';

export interface QR {
  size: number;
  path: string;
}

export function qrPath(text: string): QR {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let d = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.isDark(r, c)) {
        // merge a run of dark modules into one rectangle
        let w = 1;
        while (c + w < n && qr.isDark(r, c + w)) w++;
        d += `M${c} ${r}h${w}v1h-${w}z`;
        c += w - 1;
      }
    }
  }
  return { size: n, path: d };
}

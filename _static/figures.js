// Figures on a phone: the book's figures are drawn at 150 dpi with tick labels down to 7 pt, so
// shrunk to a 390 px column their smallest text falls to about 5 px. On narrow screens each figure
// keeps at least 60% of its drawn width (7 pt then reads at about 9 px) and scrolls sideways in
// its own box (_static/custom.css) instead. tests/site/test_browser.py checks the result.
(() => {
  const NARROW = 720; // px: the widths at which the text column is narrower than a figure needs
  const KEEP = 0.6; // share of the drawn width a figure keeps
  const fit = (img) => {
    if (!img.naturalWidth) return;
    const keep = window.innerWidth < NARROW ? Math.round(img.naturalWidth * KEEP) : 0;
    img.style.minWidth = keep ? `${keep}px` : '';
    img.style.maxWidth = keep ? 'none' : '';
  };
  const fitAll = () => {
    document.querySelectorAll('article.bd-article figure img').forEach((img) => {
      if (img.complete) fit(img);
      else img.addEventListener('load', () => fit(img), { once: true });
    });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fitAll);
  else fitAll();
  window.addEventListener('resize', fitAll);
})();

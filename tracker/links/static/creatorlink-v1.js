/*! Creatorlink storefront snippet v1: keeps the click id of a creator's link in a
 * first-party cookie and writes it into the cart's attributes (Shopify /cart/update.js,
 * attributes[cl_cid]) so it reaches the order's note_attributes. No dependencies.
 * <script src=".../static/creatorlink-v1.js" integrity="sha384-..." crossorigin="anonymous"
 *   data-param="cl_cid" data-days="30" data-cart="/cart/update.js" defer></script>
 */
(function () {
  "use strict";
  var me = document.currentScript || {};
  var data = me.dataset || {};
  var param = /^[A-Za-z0-9_-]{1,64}$/.test(data.param || "") ? data.param : "cl_cid";
  var days = parseInt(data.days, 10);
  if (!(days > 0 && days <= 3650)) days = 30;
  var cart = data.cart === undefined ? "/cart/update.js" : data.cart;
  /* a path on this shop only: not "//host" or "/\host", which browsers read as another host */
  if (cart && (cart.charAt(0) !== "/" || cart.charAt(1) === "/" || cart.charAt(1) === "\\")) cart = "";
  var valid = /^[A-Za-z0-9_-]{16}$/;

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  function fromUrl() {
    var m = new RegExp("[?&]" + param + "=([^&#]*)").exec(window.location.search);
    return m ? decodeURIComponent(m[1].replace(/\+/g, " ")) : "";
  }

  var id = fromUrl();
  if (valid.test(id)) {
    /* the latest click wins, as the server's last-touch model does */
    document.cookie = param + "=" + id + "; Max-Age=" + days * 86400 + "; Path=/; SameSite=Lax" +
      (window.location.protocol === "https:" ? "; Secure" : "");
  } else {
    id = readCookie(param);
    if (!valid.test(id)) return;
  }
  window.creatorlink = { clickId: id, param: param };
  if (!cart) return;

  var marker = "creatorlink:" + param;
  var key = id + "|" + readCookie("cart");
  try {
    if (window.sessionStorage.getItem(marker) === key) return;
  } catch (e) { /* storage blocked: post every page */ }
  var body = "attributes%5B" + encodeURIComponent(param) + "%5D=" + encodeURIComponent(id);
  var done = function () {
    try { window.sessionStorage.setItem(marker, key); } catch (e) { /* ignore */ }
  };
  if (window.fetch) {
    window.fetch(cart, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
      body: body
    }).then(function (r) { if (r.ok) done(); }, function () {});
  } else {
    var x = new XMLHttpRequest();
    x.open("POST", cart);
    x.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
    x.onload = function () { if (x.status < 300) done(); };
    x.send(body);
  }
})();

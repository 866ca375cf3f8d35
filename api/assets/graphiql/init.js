// Dinghuo's GraphiQL page: starts GraphiQL against this server's /graphql (queries and
// mutations over HTTP) and /graphql/ws (subscriptions). A file of its own rather than an inline
// script, so that the page's content security policy can allow scripts from this origin only.
'use strict';

(function () {
  // GraphiQL's dialogs add <style> elements (to stop the page scrolling behind them); they
  // carry the nonce found here, which the page's policy allows, instead of needing
  // 'unsafe-inline' for every style.
  var script = document.currentScript;
  if (script && script.nonce) {
    window.__webpack_nonce__ = script.nonce;
  }

  function endpoint(path, websocket) {
    var url = new URL(path, window.location.origin);
    if (websocket) {
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    }
    return url.toString();
  }

  var fetcher = GraphiQL.createFetcher({
    url: endpoint('/graphql', false),
    subscriptionUrl: endpoint('/graphql/ws', true),
    fetch: function (url, options) {
      return window.fetch(url, Object.assign({}, options, { credentials: 'same-origin' }));
    },
  });

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
    })
  );
})();

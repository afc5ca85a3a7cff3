/*
 * The viewer of graph.html. Runs in the browser; the graph comes from the JSON element
 * #duo-graph-data (see picture-data.ts for its shape). Every text from the graph is put on the
 * page with textContent, never as HTML, so names cannot inject markup.
 *
 * Two views: the type summary (one node per _type, one edge per relationship _type with counts)
 * and the detail view (the entities of the ticked types). Large graphs open on the summary, since
 * drawing tens of thousands of nodes at once is neither fast nor readable.
 *
 * window.duoGraph exposes the state for scripts and tests: view(), nodeCount(), edgeCount(),
 * showTypes(names), showSummary(), renderedPositionOf(key).
 */
/* global window, document, cytoscape */
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('duo-graph-data').textContent);
  var PALETTE = [
    '#2563eb',
    '#16a34a',
    '#dc2626',
    '#9333ea',
    '#ea580c',
    '#0891b2',
    '#ca8a04',
    '#db2777',
    '#4f46e5',
    '#059669',
    '#b91c1c',
    '#7c3aed',
    '#c2410c',
    '#0e7490',
    '#a16207',
    '#be185d',
  ];
  var COSE_LIMIT = 250;
  var FAINT_EDGES_ABOVE = 1500;
  var SEARCH_RESULT_LIMIT = 50;

  var container = document.getElementById('graph');
  var detailsPanel = document.getElementById('details');
  var notice = document.getElementById('notice');
  var searchInput = document.getElementById('search');
  var searchSection = document.getElementById('search-section');
  var searchResults = document.getElementById('search-results');

  var selectedTypes = new Set();
  var checkboxes = [];
  var view = '';
  var nodesByType = data.types.map(function () {
    return [];
  });
  data.nodes.forEach(function (node, index) {
    nodesByType[node.type].push(index);
  });

  function colorOf(typeIndex) {
    return PALETTE[typeIndex % PALETTE.length];
  }

  function formatCount(count) {
    return count.toLocaleString('en-US');
  }

  function element(tag, text, className) {
    var created = document.createElement(tag);
    if (text !== undefined) created.textContent = text;
    if (className) created.className = className;
    return created;
  }

  var cy = cytoscape({
    container: container,
    elements: [],
    minZoom: 0.02,
    maxZoom: 4,
    textureOnViewport: true,
    hideEdgesOnViewport: true,
    style: [
      {
        selector: 'node',
        style: {
          'background-color': 'data(color)',
          label: 'data(label)',
          'font-size': 9,
          'text-valign': 'bottom',
          'text-margin-y': 2,
          width: 16,
          height: 16,
          'min-zoomed-font-size': 7,
          'text-max-width': 120,
          'text-wrap': 'ellipsis',
        },
      },
      { selector: 'node.partial', style: { 'border-width': 3, 'border-style': 'dashed', 'border-color': '#b45309' } },
      { selector: 'node.mapped', style: { shape: 'diamond', 'background-opacity': 0.6 } },
      {
        selector: 'node.type-node',
        style: {
          width: 'data(size)',
          height: 'data(size)',
          'font-size': 12,
          'text-wrap': 'wrap',
          'min-zoomed-font-size': 0,
          'text-background-color': '#fff',
          'text-background-opacity': 0.85,
        },
      },
      { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#1d4ed8', 'border-style': 'solid' } },
      {
        selector: 'edge',
        style: {
          width: 1,
          'line-color': '#94a3b8',
          'curve-style': 'straight',
          'target-arrow-shape': 'triangle',
          'target-arrow-color': '#94a3b8',
          'arrow-scale': 0.6,
        },
      },
      {
        selector: 'edge.type-edge',
        style: {
          width: 'data(width)',
          label: 'data(label)',
          'font-size': 10,
          'text-rotation': 'autorotate',
          'text-background-color': '#fff',
          'text-background-opacity': 0.8,
          'curve-style': 'bezier',
        },
      },
      { selector: 'edge.partial', style: { 'line-style': 'dashed', 'line-color': '#b45309' } },
      {
        selector: 'edge.faint',
        style: { 'curve-style': 'haystack', 'haystack-radius': 0, opacity: 0.25, 'target-arrow-shape': 'none' },
      },
    ],
  });

  function setNotice(text) {
    notice.textContent = text;
  }

  function publishState() {
    container.setAttribute('data-view', view);
    container.setAttribute('data-node-count', String(cy.nodes().length));
    container.setAttribute('data-edge-count', String(cy.edges().length));
  }

  function runLayout(options) {
    container.setAttribute('data-ready', 'false');
    var layout = cy.layout(options);
    layout.one('layoutstop', function () {
      cy.fit(undefined, 30);
      container.setAttribute('data-ready', 'true');
    });
    layout.run();
  }

  function drawableCount(types) {
    var total = 0;
    types.forEach(function (typeIndex) {
      total += nodesByType[typeIndex].length;
    });
    return total;
  }

  function showSummary() {
    view = 'summary';
    cy.elements().remove();
    var elements = [];
    data.types.forEach(function (type, index) {
      elements.push({
        group: 'nodes',
        data: {
          id: 't' + index,
          typeIndex: index,
          label: type.name + '\n' + formatCount(type.count),
          color: colorOf(index),
          size: 24 + Math.round(Math.log10(type.count + 1) * 14),
        },
        classes: 'type-node' + (type.partial ? ' partial' : '') + (type.mappedTarget ? ' mapped' : ''),
      });
    });
    var largest = 1;
    data.typeEdges.forEach(function (edge) {
      largest = Math.max(largest, edge.count);
    });
    data.typeEdges.forEach(function (edge, index) {
      var relationshipType = data.relationshipTypes[edge.relationshipType];
      elements.push({
        group: 'edges',
        data: {
          id: 'te' + index,
          source: 't' + edge.source,
          target: 't' + edge.target,
          label: relationshipType.name + ' (' + formatCount(edge.count) + ')',
          width: 1 + Math.round((Math.log10(edge.count + 1) / Math.log10(largest + 1)) * 5),
        },
        classes: 'type-edge' + (relationshipType.partial ? ' partial' : ''),
      });
    });
    cy.add(elements);
    publishState();
    setNotice('Type summary: tick entity types on the left, or click a type, to draw its entities.');
    // Levels by distance from the first type (the account, usually), edges taken both ways.
    var root = cy.nodes().filter(function (node) {
      return node.degree(false) > 0;
    })[0];
    runLayout({
      name: 'breadthfirst',
      animate: false,
      directed: false,
      roots: root ? '#' + root.id() : undefined,
      spacingFactor: 1.6,
      padding: 40,
    });
  }

  function showDetail() {
    if (selectedTypes.size === 0) {
      showSummary();
      return;
    }
    view = 'detail';
    cy.elements().remove();
    var elements = [];
    var drawn = new Set();
    selectedTypes.forEach(function (typeIndex) {
      var type = data.types[typeIndex];
      nodesByType[typeIndex].forEach(function (nodeIndex) {
        var node = data.nodes[nodeIndex];
        drawn.add(nodeIndex);
        elements.push({
          group: 'nodes',
          data: { id: 'n' + nodeIndex, nodeIndex: nodeIndex, label: node.label, color: colorOf(typeIndex) },
          classes: (type.partial ? 'partial' : '') + (type.mappedTarget ? ' mapped' : ''),
        });
      });
    });
    var edgeStart = elements.length;
    data.edges.forEach(function (edge, index) {
      if (!drawn.has(edge.source) || !drawn.has(edge.target)) return;
      var relationshipType = data.relationshipTypes[edge.type];
      elements.push({
        group: 'edges',
        data: { id: 'e' + index, source: 'n' + edge.source, target: 'n' + edge.target },
        classes: relationshipType.partial ? 'partial' : '',
      });
    });
    // Thousands of arrows are slow to draw and hide the nodes: draw them as thin, light lines.
    if (elements.length - edgeStart > FAINT_EDGES_ABOVE) {
      for (var edgeIndex = edgeStart; edgeIndex < elements.length; edgeIndex++) elements[edgeIndex].classes += ' faint';
    }
    cy.add(elements);
    publishState();
    var sampled = [];
    selectedTypes.forEach(function (typeIndex) {
      var type = data.types[typeIndex];
      if (type.drawn < type.count)
        sampled.push(type.name + ' (' + formatCount(type.drawn) + ' of ' + formatCount(type.count) + ')');
    });
    setNotice(
      'Drawing ' +
        formatCount(cy.nodes().length) +
        ' entities and ' +
        formatCount(cy.edges().length) +
        ' relationships.' +
        (sampled.length
          ? ' Only the first entities of large types are in this picture: ' + sampled.join(', ') + '.'
          : ''),
    );
    if (cy.nodes().length <= COSE_LIMIT) {
      runLayout({ name: 'cose', animate: false, randomize: false, nodeRepulsion: 12000, idealEdgeLength: 60 });
    } else {
      var positions = typeDiscPositions(Array.from(selectedTypes));
      runLayout({
        name: 'preset',
        animate: false,
        positions: function (node) {
          return positions[node.data('nodeIndex')];
        },
      });
    }
  }

  /**
   * Positions for many nodes, grouped by type: each type's nodes fill a disc (a sunflower spiral,
   * so the disc is evenly packed whatever the count), the first type's disc sits in the middle
   * (the account, usually) and the others on a ring around it. Linear time, so thousands of nodes
   * lay out at once, and each type stays a readable cluster the user can zoom into.
   */
  function typeDiscPositions(typeIndexes) {
    var spacing = 26;
    var goldenAngle = Math.PI * (3 - Math.sqrt(5));
    typeIndexes.sort(function (a, b) {
      return a - b;
    });
    var discs = typeIndexes.map(function (typeIndex) {
      var count = nodesByType[typeIndex].length;
      return { typeIndex: typeIndex, radius: spacing * Math.sqrt(count) + spacing, x: 0, y: 0 };
    });
    var centre = discs[0];
    var ring = discs.slice(1);
    var circumference = 0;
    var largest = 0;
    ring.forEach(function (disc) {
      circumference += 2 * disc.radius + spacing * 2;
      largest = Math.max(largest, disc.radius);
    });
    var ringRadius = Math.max(centre.radius + largest + spacing * 3, circumference / (2 * Math.PI));
    var travelled = 0;
    ring.forEach(function (disc) {
      var angle = ((travelled + disc.radius + spacing) / circumference) * 2 * Math.PI - Math.PI / 2;
      travelled += 2 * disc.radius + spacing * 2;
      disc.x = ringRadius * Math.cos(angle);
      disc.y = ringRadius * Math.sin(angle);
    });
    var positions = {};
    discs.forEach(function (disc) {
      nodesByType[disc.typeIndex].forEach(function (nodeIndex, order) {
        var distance = spacing * Math.sqrt(order + 0.5);
        positions[nodeIndex] = {
          x: disc.x + distance * Math.cos(order * goldenAngle),
          y: disc.y + distance * Math.sin(order * goldenAngle),
        };
      });
    });
    return positions;
  }

  function syncCheckboxes() {
    checkboxes.forEach(function (checkbox, index) {
      checkbox.checked = selectedTypes.has(index);
    });
  }

  function showTypes(names) {
    selectedTypes.clear();
    data.types.forEach(function (type, index) {
      if (names.indexOf(type.name) !== -1) selectedTypes.add(index);
    });
    syncCheckboxes();
    showDetail();
  }

  function renderValue(value) {
    if (Array.isArray(value)) return value.join(', ');
    if (value === null) return 'null';
    return String(value);
  }

  function partialNote(item) {
    return element(
      'p',
      'Partial type' +
        (item.partialReason ? ' (' + item.partialReason + ')' : '') +
        ': this delivery could not read all of it, so the objects of the previous output are kept.',
      'partial-note',
    );
  }

  function showNodeDetails(nodeIndex) {
    var node = data.nodes[nodeIndex];
    var type = data.types[node.type];
    detailsPanel.replaceChildren();
    detailsPanel.appendChild(element('h2', node.label));
    if (type.partial) detailsPanel.appendChild(partialNote(type));
    if (type.mappedTarget) {
      detailsPanel.appendChild(
        element(
          'p',
          'Target of a mapped relationship: JupiterOne links it to a matching entity or creates it.',
          'hint',
        ),
      );
    }
    var table = element('table');
    var rows = [
      ['_key', node.key],
      ['_type', type.name],
    ];
    Object.keys(node.properties)
      .sort()
      .forEach(function (name) {
        rows.push([name, renderValue(node.properties[name])]);
      });
    rows.forEach(function (row) {
      var tr = element('tr');
      tr.appendChild(element('th', row[0]));
      tr.appendChild(element('td', row[1]));
      table.appendChild(tr);
    });
    detailsPanel.appendChild(table);
    detailsPanel.setAttribute('data-key', node.key);
  }

  function showTypeDetails(typeIndex) {
    var type = data.types[typeIndex];
    detailsPanel.replaceChildren();
    detailsPanel.appendChild(element('h2', type.name));
    if (type.partial) detailsPanel.appendChild(partialNote(type));
    var table = element('table');
    [
      ['entities', formatCount(type.count)],
      ['in this picture', formatCount(type.drawn)],
    ].forEach(function (row) {
      var tr = element('tr');
      tr.appendChild(element('th', row[0]));
      tr.appendChild(element('td', row[1]));
      table.appendChild(tr);
    });
    detailsPanel.appendChild(table);
    var draw = element('button', 'Draw ' + type.name);
    draw.type = 'button';
    draw.addEventListener('click', function () {
      selectedTypes.add(typeIndex);
      syncCheckboxes();
      showDetail();
    });
    detailsPanel.appendChild(draw);
    detailsPanel.setAttribute('data-key', 'type:' + type.name);
  }

  cy.on('tap', 'node', function (event) {
    var nodeData = event.target.data();
    if (nodeData.nodeIndex !== undefined) showNodeDetails(nodeData.nodeIndex);
    else showTypeDetails(nodeData.typeIndex);
  });

  function reveal(nodeIndex) {
    var node = data.nodes[nodeIndex];
    if (view !== 'detail' || !selectedTypes.has(node.type)) {
      selectedTypes.add(node.type);
      syncCheckboxes();
      showDetail();
    }
    var drawnNode = cy.getElementById('n' + nodeIndex);
    cy.nodes(':selected').unselect();
    drawnNode.select();
    cy.animate({ center: { eles: drawnNode }, zoom: Math.max(cy.zoom(), 1) }, { duration: 0 });
    showNodeDetails(nodeIndex);
  }

  function runSearch() {
    var query = searchInput.value.trim().toLowerCase();
    searchResults.replaceChildren();
    searchSection.classList.toggle('active', query !== '');
    if (query === '') return;
    var found = 0;
    var total = 0;
    for (var index = 0; index < data.nodes.length; index++) {
      var node = data.nodes[index];
      if (node.label.toLowerCase().indexOf(query) === -1 && node.key.toLowerCase().indexOf(query) === -1) continue;
      total++;
      if (found >= SEARCH_RESULT_LIMIT) continue;
      found++;
      var item = element('li');
      var button = element('button', node.label + ' [' + data.types[node.type].name + ']');
      button.type = 'button';
      button.setAttribute('data-key', node.key);
      button.addEventListener(
        'click',
        (function (nodeIndex) {
          return function () {
            reveal(nodeIndex);
          };
        })(index),
      );
      item.appendChild(button);
      searchResults.appendChild(item);
    }
    if (total === 0) searchResults.appendChild(element('li', 'No entity matches.', 'hint'));
    else if (total > found)
      searchResults.appendChild(element('li', formatCount(total - found) + ' more not listed.', 'hint'));
  }

  var searchTimer;
  searchInput.addEventListener('input', function () {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(runSearch, 150);
  });
  searchInput.addEventListener('keydown', function (event) {
    if (event.key === 'Enter') {
      window.clearTimeout(searchTimer);
      runSearch();
    }
  });

  function buildSidebar() {
    var entityList = document.getElementById('entity-types');
    data.types.forEach(function (type, index) {
      var row = element('label', undefined, 'type-row');
      var checkbox = element('input');
      checkbox.type = 'checkbox';
      checkbox.value = type.name;
      checkbox.setAttribute('data-type', type.name);
      checkbox.addEventListener('change', function () {
        if (checkbox.checked) selectedTypes.add(index);
        else selectedTypes.delete(index);
        showDetail();
      });
      checkboxes.push(checkbox);
      var swatch = element('span', undefined, 'swatch');
      swatch.style.background = colorOf(index);
      row.appendChild(checkbox);
      row.appendChild(swatch);
      row.appendChild(element('span', type.name));
      if (type.partial) row.appendChild(element('span', 'partial', 'badge'));
      if (type.mappedTarget) row.appendChild(element('span', 'mapped', 'badge mapped'));
      var count =
        type.drawn < type.count ? formatCount(type.drawn) + ' / ' + formatCount(type.count) : formatCount(type.count);
      row.appendChild(element('span', count, 'count'));
      entityList.appendChild(row);
    });
    var relationshipList = document.getElementById('relationship-types');
    data.relationshipTypes.forEach(function (type) {
      var row = element('div', undefined, 'type-row');
      row.appendChild(element('span', type.name));
      if (type.partial) row.appendChild(element('span', 'partial', 'badge'));
      row.appendChild(element('span', formatCount(type.count), 'count'));
      relationshipList.appendChild(row);
    });
    var entityTotal = 0;
    data.types.forEach(function (type) {
      entityTotal += type.count;
    });
    var relationshipTotal = 0;
    data.relationshipTypes.forEach(function (type) {
      relationshipTotal += type.count;
    });
    document.getElementById('totals').textContent =
      formatCount(entityTotal) +
      ' entities · ' +
      formatCount(relationshipTotal) +
      ' relationships · ' +
      data.generatedAt;
  }

  document.getElementById('show-summary').addEventListener('click', showSummary);
  document.getElementById('show-all').addEventListener('click', function () {
    showTypes(
      data.types.map(function (type) {
        return type.name;
      }),
    );
  });

  window.duoGraph = {
    view: function () {
      return view;
    },
    nodeCount: function () {
      return cy.nodes().length;
    },
    edgeCount: function () {
      return cy.edges().length;
    },
    showTypes: showTypes,
    showSummary: showSummary,
    /** Viewport coordinates of the drawn node with `key`, or null when it is not drawn. */
    renderedPositionOf: function (key) {
      for (var index = 0; index < data.nodes.length; index++) {
        if (data.nodes[index].key !== key) continue;
        var drawnNode = cy.getElementById('n' + index);
        if (drawnNode.empty()) return null;
        var position = drawnNode.renderedPosition();
        var box = container.getBoundingClientRect();
        return { x: box.left + position.x, y: box.top + position.y };
      }
      return null;
    },
  };

  buildSidebar();
  var allTypes = data.types.map(function (_type, index) {
    return index;
  });
  if (drawableCount(allTypes) <= data.detailThreshold) {
    allTypes.forEach(function (index) {
      selectedTypes.add(index);
    });
    syncCheckboxes();
    showDetail();
  } else {
    showSummary();
  }
})();

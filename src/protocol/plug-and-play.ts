// The IoT Plug and Play convention's component marker: a component's desired properties sit under its name beside
// `"__t": "c"`, which the writer adds (the operator, or a device's own reported properties).

export const COMPONENT_MARKER_KEY = '__t';
export const COMPONENT_MARKER_VALUE = 'c';
/** The marker as it stands in a component's object. */
export const COMPONENT_MARKER = { [COMPONENT_MARKER_KEY]: COMPONENT_MARKER_VALUE } as const;

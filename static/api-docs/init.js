// Starts Swagger UI on Parlor's own OpenAPI document. No validator badge (it would call
// validator.swagger.io) and no top bar: the page loads nothing but what Parlor serves.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api-docs/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});

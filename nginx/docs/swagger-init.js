// swagger-init.js -- start Swagger UI on fastback's joined OpenAPI
// document, served beside it (nginx/routes/destinations.conf).
window.ui = SwaggerUIBundle({
	url: '/api/swagger.json',
	dom_id: '#swagger-ui',
	deepLinking: true,
});
